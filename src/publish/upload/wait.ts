/**
 * The uploadState machine, seen from the client (docs/reference/graph-win32-upload.md §2.5–2.7, §2.9, §2.10;
 * docs/DESIGN.md house rule 7): poll the file until the stage's success state, with a deadline, a growing poll interval
 * and typed failures. Each stage lists which states mean "keep waiting", "done", "failed" and "timed out (service
 * side)"; any other state is unexpected and fails at once rather than being waited on for ever.
 */
import { PublisherError } from "../../core/errors.js";
import type { CodeOfKind } from "../../core/error-codes.js";
import type { MobileAppContentFileWire, UploadState } from "../../core/wire/graph.js";
import { UPLOAD_STATE_VALUES } from "../../core/wire/graph.js";
import { abortError } from "../../clients/http/errors.js";
import type { Clock, Sleep } from "../../clients/http/types.js";

export type WaitStage = "sasRequest" | "renewal" | "commit";

export interface PollOptions {
  /** first wait between two reads; default 1000 ms */
  initialIntervalMs: number;
  /** each wait is the previous one times this; default 1.5 */
  factor: number;
  /** default 10 000 ms */
  maxIntervalMs: number;
}

export const DEFAULT_POLL: PollOptions = { initialIntervalMs: 1000, factor: 1.5, maxIntervalMs: 10_000 };

interface StageRules {
  pending: ReadonlySet<UploadState>;
  success: ReadonlySet<UploadState>;
  failed: UploadState;
  timedOut: UploadState;
  text: string;
}

const RULES: Record<WaitStage, StageRules> = {
  sasRequest: {
    // transientError / unknown: documented states with no documented meaning (§2.9); waiting is the safe reading.
    pending: new Set(["azureStorageUriRequestPending", "transientError", "unknown"]),
    success: new Set(["azureStorageUriRequestSuccess"]),
    failed: "azureStorageUriRequestFailed",
    timedOut: "azureStorageUriRequestTimedOut",
    text: "the upload URL",
  },
  renewal: {
    // Until the renewal shows, the file may still read as issued (§2.6: the renewed URL can stay the same).
    pending: new Set([
      "azureStorageUriRenewalPending",
      "azureStorageUriRequestSuccess",
      "azureStorageUriRenewalSuccess",
      "transientError",
      "unknown",
    ]),
    // Decided by the caller's `done` (a RenewalSuccess left from an earlier renewal must not end this one).
    success: new Set(["azureStorageUriRenewalSuccess"]),
    failed: "azureStorageUriRenewalFailed",
    timedOut: "azureStorageUriRenewalTimedOut",
    text: "the renewed upload URL",
  },
  commit: {
    // A commit the service never picked up leaves the file in …Success for ever (§2.7, §3 item 7): the deadline
    // ends that wait.
    pending: new Set([
      "commitFilePending",
      "azureStorageUriRequestSuccess",
      "azureStorageUriRenewalSuccess",
      "transientError",
      "unknown",
    ]),
    success: new Set(["commitFileSuccess"]),
    failed: "commitFileFailed",
    timedOut: "commitFileTimedOut",
    text: "the commit",
  },
};

export class UploadStateError extends PublisherError {
  readonly stage: WaitStage;
  readonly uploadState: UploadState | undefined;

  constructor(
    code: CodeOfKind<"graph" | "timeout">,
    message: string,
    stage: WaitStage,
    uploadState: UploadState | undefined,
    hint?: string,
  ) {
    super(code, message, { hint });
    this.name = "UploadStateError";
    this.stage = stage;
    this.uploadState = uploadState;
  }
}

const FAILED_CODE: Record<WaitStage, CodeOfKind<"graph">> = {
  sasRequest: "AzureStorageUriRequestFailed",
  renewal: "AzureStorageUriRenewalFailed",
  commit: "CommitFileFailed",
};
const TIMED_OUT_CODE: Record<WaitStage, CodeOfKind<"graph">> = {
  sasRequest: "AzureStorageUriRequestTimedOut",
  renewal: "AzureStorageUriRenewalTimedOut",
  commit: "CommitFileTimedOut",
};
const HINT: Record<WaitStage, string> = {
  sasRequest: "Intune could not issue an upload URL; try again later (a new content version is made).",
  renewal: "Intune could not renew the upload URL; run again to resume with a fresh one.",
  commit:
    "Intune could not verify the uploaded content against the package's encryption info: the package may be " +
    "damaged or altered after packaging. Package it again and publish again.",
};

export interface WaitOptions {
  stage: WaitStage;
  read: (signal: AbortSignal | undefined) => Promise<MobileAppContentFileWire>;
  /** a file already read (e.g. the create answer): checked before waiting */
  initial?: MobileAppContentFileWire;
  /**
   * Replaces the stage's success test, given the file and every state seen so far in this wait (e.g. renewal:
   * RenewalSuccess after RenewalPending was seen, or the expiry moved).
   */
  done?: (file: MobileAppContentFileWire, seen: ReadonlySet<UploadState>) => boolean;
  deadlineMs: number;
  poll: PollOptions;
  clock: Clock;
  sleep: Sleep;
  signal?: AbortSignal;
  /** each state read (the first one and every change) */
  onState?: (state: UploadState) => void;
}

function describe(state: UploadState | undefined): string {
  return state === undefined ? "no state" : `${state} (${UPLOAD_STATE_VALUES[state] ?? "?"})`;
}

/** Polls until the stage ends; resolves to the file in its success state. */
export async function waitForUploadState(o: WaitOptions): Promise<MobileAppContentFileWire> {
  const rules = RULES[o.stage];
  const start = o.clock();
  const deadline = start + o.deadlineMs;
  let interval = o.poll.initialIntervalMs;
  let file = o.initial;
  let last: UploadState | undefined;
  const seen = new Set<UploadState>();
  for (;;) {
    if (o.signal?.aborted) throw abortError(o.signal);
    if (file !== undefined) {
      const state = file.uploadState;
      if (state !== last) o.onState?.(state);
      last = state;
      seen.add(state);
      if (o.done === undefined ? rules.success.has(state) : o.done(file, seen)) return file;
      if (state === rules.failed || state === rules.timedOut)
        throw new UploadStateError(
          (state === rules.failed ? FAILED_CODE : TIMED_OUT_CODE)[o.stage],
          `Intune reported ${describe(state)}.`,
          o.stage,
          state,
          HINT[o.stage],
        );
      if (!rules.pending.has(state))
        throw new UploadStateError(
          "UnexpectedUploadState",
          `While waiting for ${rules.text}, the file is in ${describe(state)}, which that step never leads to.`,
          o.stage,
          state,
        );
    }
    const now = o.clock();
    if (now >= deadline)
      throw new UploadStateError(
        "UploadStateDeadline",
        `Waited ${Math.round((now - start) / 1000)} s for ${rules.text}; the file is still in ${describe(last)}.`,
        o.stage,
        last,
        "Intune is slow or stuck; run again later to resume, or raise the deadline.",
      );
    if (file !== undefined) {
      await o.sleep(Math.max(0, Math.min(interval, deadline - now)), o.signal);
      interval = Math.min(o.poll.maxIntervalMs, interval * o.poll.factor);
    }
    file = await o.read(o.signal);
  }
}
