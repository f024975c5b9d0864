/**
 * The upload URL and its renewal (docs/reference/graph-win32-upload.md §2.6): `renewUpload`, then wait for
 * `azureStorageUriRenewalSuccess` and re-read `azureStorageUriExpirationDateTime` (and the URL, which may or may not
 * change). Renewal happens
 * - proactively, before a block starts, when less than `renewBeforeMs` remains (or, with no expiry given,
 *   every `fallbackRenewIntervalMs`, Microsoft's sample's 450 s); never more often than `minRenewIntervalMs`, so a
 *   skewed local clock cannot make it renew before every block;
 * - on a 403 from storage, once per URL generation however many workers were refused.
 * One renewal at a time: blocks that want a URL meanwhile wait for it.
 */
import type { MobileAppContentFileWire, UploadState } from "../../core/wire/graph.js";
import type { StorageError } from "../../clients/blob/block-blob.js";
import type { UploadUrl, UploadUrlSource } from "../../clients/blob/upload-blocks.js";
import type { Clock, Sleep } from "../../clients/http/types.js";
import { PublisherError } from "../../core/errors.js";
import type { ContentEndpoints } from "../../clients/graph/content.js";
import type { PollOptions } from "./wait.js";
import { waitForUploadState } from "./wait.js";

export interface RenewalPolicy {
  /** renew when less than this remains before `azureStorageUriExpirationDateTime`; default 3 minutes */
  renewBeforeMs: number;
  /** without an expiry: renew this long after the URL was issued or renewed; default 450 s */
  fallbackRenewIntervalMs: number;
  /** proactive renewals never closer than this; default 60 s */
  minRenewIntervalMs: number;
}

export const DEFAULT_RENEWAL: RenewalPolicy = {
  renewBeforeMs: 3 * 60_000,
  fallbackRenewIntervalMs: 450_000,
  minRenewIntervalMs: 60_000,
};

export interface RenewalEvent {
  reason: "proactive" | "refused" | "resume";
  /** ISO date, when the service gave one */
  expiresOn: string | undefined;
  urlChanged: boolean;
}

export interface SasManagerOptions {
  endpoints: ContentEndpoints;
  contentVersionId: string;
  fileId: string;
  file: MobileAppContentFileWire;
  policy: RenewalPolicy;
  renewalDeadlineMs: number;
  poll: PollOptions;
  clock: Clock;
  sleep: Sleep;
  onState?: (state: UploadState) => void;
  onRenewed?: (e: RenewalEvent) => void;
}

function expiryOf(file: MobileAppContentFileWire): number | undefined {
  const t = file.azureStorageUriExpirationDateTime;
  if (t === null || t === undefined) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

export class SasManager implements UploadUrlSource {
  private url: string;
  private expiresOn: number | undefined;
  private rawExpiry: string | null;
  private generation = 0;
  private issuedAt: number;
  private renewing: Promise<UploadUrl> | undefined;
  renewals = 0;
  /** the last renewal failed (its error names the renewal stage, although blocks were being sent) */
  renewalFailed = false;

  constructor(private readonly o: SasManagerOptions) {
    const uri = o.file.azureStorageUri;
    if (uri === null || uri === undefined || uri === "")
      throw new PublisherError("NoUploadUrl", "Intune reported the upload URL as ready but sent none.");
    this.url = uri;
    this.rawExpiry = o.file.azureStorageUriExpirationDateTime;
    this.expiresOn = expiryOf(o.file);
    this.issuedAt = o.clock();
  }

  get current(): UploadUrl {
    return { url: this.url, generation: this.generation };
  }

  /** true when a proactive renewal is due now */
  private due(): boolean {
    const now = this.o.clock();
    if (now - this.issuedAt < this.o.policy.minRenewIntervalMs) return false;
    if (this.expiresOn === undefined) return now - this.issuedAt >= this.o.policy.fallbackRenewIntervalMs;
    return this.expiresOn - now < this.o.policy.renewBeforeMs;
  }

  async ready(signal: AbortSignal): Promise<UploadUrl> {
    if (this.renewing !== undefined) return this.renewing;
    if (this.due()) return this.renew("proactive", signal);
    return this.current;
  }

  async refused(refused: UploadUrl, _error: StorageError, signal: AbortSignal): Promise<UploadUrl> {
    if (this.renewing !== undefined) return this.renewing;
    if (refused.generation < this.generation) return this.current;
    return this.renew("refused", signal);
  }

  /** Renews now (single flight). */
  renew(reason: RenewalEvent["reason"], signal: AbortSignal | undefined): Promise<UploadUrl> {
    this.renewing ??= this.doRenew(reason, signal)
      .catch((e: unknown) => {
        this.renewalFailed = true;
        throw e;
      })
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing;
  }

  private async doRenew(reason: RenewalEvent["reason"], signal: AbortSignal | undefined): Promise<UploadUrl> {
    const { endpoints, contentVersionId, fileId } = this.o;
    const before = this.rawExpiry;
    await endpoints.renewUpload(contentVersionId, fileId, signal);
    const file = await waitForUploadState({
      stage: "renewal",
      read: (s) => endpoints.getFile(contentVersionId, fileId, s),
      // A RenewalSuccess left by an earlier renewal does not count until this one was seen pending, unless the
      // expiry already moved (a service that renews at once).
      done: (f, seen) =>
        (f.uploadState === "azureStorageUriRenewalSuccess" && seen.has("azureStorageUriRenewalPending")) ||
        ((f.uploadState === "azureStorageUriRenewalSuccess" || f.uploadState === "azureStorageUriRequestSuccess") &&
          f.azureStorageUriExpirationDateTime !== null &&
          f.azureStorageUriExpirationDateTime !== before),
      deadlineMs: this.o.renewalDeadlineMs,
      poll: this.o.poll,
      clock: this.o.clock,
      sleep: this.o.sleep,
      ...(signal === undefined ? {} : { signal }),
      ...(this.o.onState === undefined ? {} : { onState: this.o.onState }),
    });
    const uri = file.azureStorageUri;
    const urlChanged = uri !== null && uri !== undefined && uri !== "" && uri !== this.url;
    if (urlChanged) this.url = uri;
    this.rawExpiry = file.azureStorageUriExpirationDateTime;
    this.expiresOn = expiryOf(file);
    this.issuedAt = this.o.clock();
    this.generation++;
    this.renewals++;
    this.o.onRenewed?.({ reason, expiresOn: file.azureStorageUriExpirationDateTime ?? undefined, urlChanged });
    return this.current;
  }
}
