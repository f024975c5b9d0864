/**
 * The `uploadState` machine of a content file (docs/reference/graph-win32-upload.md §2.4–2.7, §2.9, §4 items 10–13,
 * 16–21). Transitions are lazy: each record holds the time its pending state ends, and the state is advanced when the
 * file is read, against the injected clock. No timers, no polling loops; commit verification runs as one promise.
 */
import type { FileEncryptionInfoWire } from "../../src/core/wire/graph.js";
import type { Clock } from "../clock.js";
import type { EmbeddedStorage } from "../storage/index.js";
import type { FileRecord, Repository } from "./repositories.js";

/** "Never": a finite number, so it survives JSON persistence. */
const STUCK = Number.MAX_SAFE_INTEGER;

export interface UploadDelays {
  /** azureStorageUriRequestPending → …Success (§4 item 10: 1–3 s on the real service) */
  sasIssueMs: number;
  /** azureStorageUriRenewalPending → …Success (§2.6) */
  renewalMs: number;
  /** commitFilePending → result, at least (§4 item 21) */
  commitMs: number;
  /** extra commit time per MiB of sizeEncrypted ("commit time grows with file size", §2.10) */
  commitMsPerMiB: number;
  /** lifetime of an upload URL (§2.6: real value unconfirmed; Microsoft's sample renews every 450 s) */
  sasLifetimeMs: number;
}

export const DEFAULT_UPLOAD_DELAYS: UploadDelays = {
  sasIssueMs: 1000,
  renewalMs: 1000,
  commitMs: 1000,
  commitMsPerMiB: 5,
  sasLifetimeMs: 10 * 60_000,
};

/** Ways to make the next matching stage fail (admin fault injection). */
export interface UploadFault {
  stage: "sasRequest" | "renewal" | "commit" | "blockUpload";
  /**
   * failed / timedOut end states; stuck = stays pending for ever; sasExpiresAfterBytes (stage blockUpload): the
   * file's upload URL expires once `bytes` of blocks were accepted, so the block that passes the mark gets 403
   */
  outcome: "failed" | "timedOut" | "stuck" | "sasExpiresAfterBytes";
  /** for sasExpiresAfterBytes */
  bytes?: number;
  count: number;
}

interface Verification {
  done: boolean;
  promise?: Promise<unknown>;
  ok?: boolean;
  reason?: string;
}

export class UploadStateMachine {
  readonly delays: UploadDelays;
  private readonly verifications = new Map<string, Verification>();
  private faults: UploadFault[] = [];

  constructor(
    private readonly o: {
      clock: Clock;
      storage: EmbeddedStorage | undefined;
      delays?: Partial<UploadDelays> | undefined;
    },
  ) {
    this.delays = { ...DEFAULT_UPLOAD_DELAYS, ...o.delays };
  }

  addFault(f: UploadFault): void {
    this.faults.push({ ...f });
  }

  reset(): void {
    this.verifications.clear();
    this.faults = [];
  }

  private takeFault(stage: UploadFault["stage"]): UploadFault["outcome"] | undefined {
    return this.takeFaultRecord(stage)?.outcome;
  }

  private takeFaultRecord(stage: UploadFault["stage"]): UploadFault | undefined {
    const f = this.faults.find((x) => x.stage === stage && x.count > 0);
    if (!f) return undefined;
    f.count--;
    this.faults = this.faults.filter((x) => x.count > 0);
    return f;
  }

  /** New file: `azureStorageUriRequestPending`, URL issued after `sasIssueMs` (§2.4, §4 item 10). */
  async register(rec: FileRecord, container: string, blobName: string): Promise<void> {
    const now = this.o.clock.now();
    const fault = this.takeFault("sasRequest");
    rec.file.uploadState = "azureStorageUriRequestPending";
    rec.pendingUntil = fault === "stuck" ? STUCK : now + this.delays.sasIssueMs;
    if (fault === "failed" || !this.o.storage) rec.pendingTo = "azureStorageUriRequestFailed";
    else if (fault === "timedOut") rec.pendingTo = "azureStorageUriRequestTimedOut";
    else {
      rec.pendingTo = "azureStorageUriRequestSuccess";
      rec.uploadUri = await this.o.storage.createUploadUri({
        container,
        blobName,
        expiresOn: new Date(now + this.delays.sasIssueMs + this.delays.sasLifetimeMs),
      });
      const expiry = this.takeFaultRecord("blockUpload");
      if (expiry?.outcome === "sasExpiresAfterBytes") {
        this.o.storage.expireUploadUriAfterBytes(rec.uploadUri, expiry.bytes ?? 0);
      }
    }
  }

  /** `renewUpload` (§2.6, §4 item 13): the same URL, its stored access policy extended. */
  async renew(rec: FileRecord): Promise<void> {
    const now = this.o.clock.now();
    const fault = this.takeFault("renewal");
    rec.file.uploadState = "azureStorageUriRenewalPending";
    rec.pendingUntil = fault === "stuck" ? STUCK : now + this.delays.renewalMs;
    if (fault === "failed") rec.pendingTo = "azureStorageUriRenewalFailed";
    else if (fault === "timedOut") rec.pendingTo = "azureStorageUriRenewalTimedOut";
    else {
      rec.pendingTo = "azureStorageUriRenewalSuccess";
      if (this.o.storage && rec.uploadUri) {
        await this.o.storage.renewUploadUri(
          rec.uploadUri,
          new Date(now + this.delays.renewalMs + this.delays.sasLifetimeMs),
        );
      }
    }
  }

  /** `commit` (§2.7, §4 items 16–21): 204 now, verification in the background, result after the delay. */
  commit(rec: FileRecord, info: FileEncryptionInfoWire): void {
    const now = this.o.clock.now();
    const fault = this.takeFault("commit");
    rec.encryptionInfo = info;
    rec.file.uploadState = "commitFilePending";
    rec.pendingUntil =
      fault === "stuck"
        ? STUCK
        : now + this.delays.commitMs + Math.ceil((rec.file.sizeEncrypted / 1048576) * this.delays.commitMsPerMiB);
    if (fault === "failed" || fault === "timedOut") {
      rec.pendingTo = fault === "failed" ? "commitFileFailed" : "commitFileTimedOut";
      rec.failureReason = "Injected fault.";
      return;
    }
    rec.pendingTo = "commitFileSuccess";
    const v: Verification = { done: false };
    this.verifications.set(rec.id, v);
    const storage = this.o.storage;
    if (!storage || !rec.uploadUri) {
      Object.assign(v, { done: true, ok: false, reason: "No blob was ever issued for this file." });
      return;
    }
    v.promise = storage
      .verifyCommittedContent(rec.uploadUri, {
        size: rec.file.size,
        sizeEncrypted: rec.file.sizeEncrypted,
        fileEncryptionInfo: info,
      })
      .then(
        (r) => Object.assign(v, r.ok ? { done: true, ok: true } : { done: true, ok: false, reason: r.reason }),
        (e: unknown) =>
          Object.assign(v, { done: true, ok: false, reason: `Verification error: ${(e as Error).message}` }),
      );
  }

  /** Advances a pending state whose time has come (commit also waits for its verification); true if it moved. */
  refresh(rec: FileRecord): boolean {
    if (rec.pendingUntil === undefined || rec.pendingTo === undefined) return false;
    if (this.o.clock.now() < rec.pendingUntil) return false;
    let to = rec.pendingTo;
    if (rec.file.uploadState === "commitFilePending" && to === "commitFileSuccess") {
      const v = this.verifications.get(rec.id);
      if (v === undefined) {
        // A persisted record whose verification was lost when the local tenant stopped.
        to = "commitFileFailed";
        rec.failureReason = "The local tenant restarted while the commit was being verified.";
      } else {
        if (!v.done) return false;
        this.verifications.delete(rec.id);
        if (!v.ok) {
          to = "commitFileFailed";
          rec.failureReason = v.reason ?? "Verification failed.";
        }
      }
    }
    rec.file.uploadState = to;
    delete rec.pendingUntil;
    delete rec.pendingTo;
    if (to === "azureStorageUriRequestSuccess" || to === "azureStorageUriRenewalSuccess") {
      rec.file.azureStorageUri = rec.uploadUri ?? null;
      rec.file.azureStorageUriExpirationDateTime = new Date(
        this.o.clock.now() + this.delays.sasLifetimeMs,
      ).toISOString();
    }
    if (to === "commitFileSuccess") rec.file.isCommitted = true;
    return true;
  }

  /** Brings each record's state up to date (`refresh`) and saves those that moved; returns the records. */
  current(files: Repository<FileRecord>, records: FileRecord[]): FileRecord[] {
    for (const f of records) if (this.refresh(f)) files.put(f);
    return records;
  }

  /** Fault: the file's upload URL answers 403 from now on, until renewed (SAS expiry, §2.6). */
  async expireUploadUri(rec: FileRecord): Promise<void> {
    if (this.o.storage && rec.uploadUri) await this.o.storage.expireUploadUri(rec.uploadUri);
  }

  /** Best effort: deletes a file's blob and its access policy. */
  async deleteBlob(uri: string): Promise<void> {
    await this.o.storage?.deleteBlob(uri).catch(() => undefined);
  }

  /** Resolves once every commit verification started so far has finished (tests, admin API). */
  async settled(): Promise<void> {
    await Promise.all([...this.verifications.values()].map((v) => v.promise));
  }
}
