/**
 * The content upload engine (the publish flow from the content version to the committedContentVersion
 * PATCH, for an existing app; docs/reference/graph-win32-upload.md §2.3–2.8, §3; docs/DESIGN.md house rules 5, 7, 8):
 *
 *   content version → file (size, sizeEncrypted) → wait azureStorageUriRequestSuccess → parallel Put Block with
 *   proactive and on-403 renewUpload → Put Block List → commit(fileEncryptionInfo) → wait commitFileSuccess →
 *   PATCH committedContentVersion (+ largeIcon, + the caller's `commitPatch`) → GET the app to verify.
 *
 * With a journal, every step that creates something or stages a block is recorded first-hand, so
 * `resumeOrStart` in a later process renews the URL, asks storage which blocks it already holds, sends only the
 * missing ones and finishes. Every failure is an `UploadError` (errors.ts); progress goes to `onProgress`.
 */
import type { Readable } from "node:stream";
import { BlockBlobClient, StorageError, blockId } from "../../clients/blob/block-blob.js";
import type { BlockList } from "../../clients/blob/block-blob.js";
import { checkBlockLayout, uploadBlocks } from "../../clients/blob/upload-blocks.js";
import type { GraphClient } from "../../clients/graph/client.js";
import { GraphError } from "../../clients/graph/errors.js";
import { abortError, NetworkError } from "../../clients/http/errors.js";
import type { RetryOptions } from "../../clients/http/retry-policy.js";
import { abortableSleep } from "../../clients/http/sleep.js";
import { createFetchTransport } from "../../clients/http/transport.js";
import type { FetchTransport } from "../../clients/http/transport.js";
import type { Clock, HttpLogger, HttpTransport, Sleep } from "../../clients/http/types.js";
import type {
  FileEncryptionInfoWire,
  MimeContentWire,
  MobileAppContentFileWire,
  PublishingState,
  UploadState,
} from "../../core/wire/graph.js";
import { openPackage } from "../../intunewin/read.js";
import type { IntunewinPackage, PayloadReader } from "../../intunewin/read.js";
import { toUploadError, UploadError } from "./errors.js";
import type { FailureContext, UploadStage } from "./errors.js";
import { ContentEndpoints } from "../../clients/graph/content.js";
import { fileEncryptionInfo } from "./encryption-info.js";
import { packageDigest, UploadJournal } from "./journal.js";
import type { UploadJournalEntry } from "./journal.js";
import { DEFAULT_RENEWAL, SasManager } from "./sas.js";
import type { RenewalEvent, RenewalPolicy } from "./sas.js";
import { DEFAULT_POLL, UploadStateError, waitForUploadState } from "./wait.js";
import type { PollOptions, WaitStage } from "./wait.js";

const MiB = 1024 * 1024;
/**
 * Bytes of blocks in flight for one upload when the caller sets no concurrency (and a publish run, all its apps
 * together): `blockSize × concurrency`. A stored payload is read while it is sent (two 256 KiB slices per block in
 * flight), so this is the memory bound of a deflated payload, read into block buffers.
 */
export const BLOCK_BUFFER_BUDGET = 128 * MiB;
/**
 * Bytes per Put Block when the caller sets none: 32 MiB, 4 in flight. Since blocks are read while they are sent, the
 * block size no longer costs memory; against the local tenant 32 MiB blocks cost its storage 0.5–1.5 CPU s less per
 * 512 MiB than 8 MiB ones (a quarter of the requests) and 32 × 4 was our fastest or near it (bench/README.md,
 * "Upload, 2026-12-04 08:55–10:15 UTC"). Under Put Block's 100 MiB limit for Intune's storage; a resent block
 * costs 32 MiB.
 */
export const DEFAULT_BLOCK_SIZE = 32 * MiB;
/** Blocks in flight at the default block size: the whole budget (4 × 32 MiB). */
export const DEFAULT_CONCURRENCY = BLOCK_BUFFER_BUDGET / DEFAULT_BLOCK_SIZE;
/** The most blocks in flight the engine chooses by itself (smaller blocks than the default). */
export const MAX_DEFAULT_CONCURRENCY = 16;

/** Blocks in flight when the caller sets none: as many `blockSize` buffers as `budget` holds, 1 to 16. */
export function concurrencyFor(blockSize: number, budget: number = BLOCK_BUFFER_BUDGET): number {
  return Math.max(1, Math.min(MAX_DEFAULT_CONCURRENCY, Math.floor(budget / blockSize)));
}

export interface UploadDeadlines {
  /** wait for azureStorageUriRequestSuccess; default 5 minutes */
  sasRequestMs: number;
  /** wait for one renewal; default 5 minutes */
  renewalMs: number;
  /** wait for commitFileSuccess: this plus `commitMsPerGiB` per GiB of payload; default 15 minutes */
  commitMs: number;
  /** default 5 minutes (commit time grows with size, §2.10) */
  commitMsPerGiB: number;
}

export const DEFAULT_DEADLINES: UploadDeadlines = {
  sasRequestMs: 5 * 60_000,
  renewalMs: 5 * 60_000,
  commitMs: 15 * 60_000,
  commitMsPerGiB: 5 * 60_000,
};

export type UploadProgressEvent =
  /** a step starts; ids as far as they exist */
  | { type: "stage"; stage: UploadStage; appId: string; contentVersionId?: string; fileId?: string }
  /** the file's uploadState as read while waiting (first read and each change) */
  | { type: "state"; stage: WaitStage; uploadState: UploadState }
  /** after each acknowledged block; `bytesDone` counts blocks staged by earlier runs too */
  | { type: "bytes"; bytesDone: number; totalBytes: number; blocksDone: number; blockCount: number }
  | ({ type: "renewed" } & RenewalEvent)
  /** a journal was continued: what storage already held */
  | {
      type: "resumed";
      contentVersionId: string;
      fileId: string;
      uploadState: UploadState;
      blocksPresent: number;
      blockCount: number;
      /**
       * who said which blocks are present: storage's block list, or the journal when storage refused to list them
       * (403: a SAS without read permission)
       */
      source: "storage" | "journal";
    }
  /** a journal could not be continued; a new content version is made */
  | { type: "restarted"; reason: string };

export interface StorageOptions {
  /** how to reach blob storage (CA trust, proxy); default: a fetch transport with Node's roots, closed at the end */
  transport?: HttpTransport;
  retry?: RetryOptions;
  logger?: HttpLogger;
}

export interface UploadContentOptions {
  graph: GraphClient;
  /** an existing win32LobApp */
  appId: string;
  /** the .intunewin to upload (opened and closed here) … */
  packagePath?: string;
  /** … or a package opened by the caller (left open) */
  package?: IntunewinPackage;
  /** bytes per block; default 8 MiB (`DEFAULT_BLOCK_SIZE`); at most 100 MiB and 50 000 blocks */
  blockSize?: number;
  /**
   * blocks in flight; default as many as 128 MiB of block buffers holds (`concurrencyFor`): 16 at the default block
   * size, at most 16. Memory ≈ blockSize × concurrency
   */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (event: UploadProgressEvent) => void;
  /** ms since the epoch; default Date.now */
  clock?: Clock;
  /** waits between polls; default a real timer that aborts with the signal */
  sleep?: Sleep;
  storage?: StorageOptions;
  /** where to keep the resume journal; none when absent */
  journalPath?: string;
  /** re-sent with the committedContentVersion PATCH, which clears the icon otherwise (§2.8) */
  largeIcon?: MimeContentWire;
  /**
   * Other properties of the app set by the committedContentVersion PATCH (an in-place update's new definition and
   * stamp): one write per app instead of two, and the app never shows the new stamp before the new content.
   */
  commitPatch?: Readonly<Record<string, unknown>>;
  deadlines?: Partial<UploadDeadlines>;
  poll?: Partial<PollOptions>;
  renewal?: Partial<RenewalPolicy>;
}

export interface UploadResult {
  appId: string;
  contentVersionId: string;
  fileId: string;
  blockSize: number;
  blockCount: number;
  /** Put Block requests acknowledged in this run (resends after a 403 or 500 not counted twice) */
  blocksSent: number;
  bytesSent: number;
  renewals: number;
  /** continued from a journal */
  resumed: boolean;
  /** as read back after the PATCH (may be `processing` on the real service) */
  publishingState: PublishingState | undefined;
}

/** Uploads the package as a new content version of the app and commits it. Starts afresh even if a journal exists. */
export function uploadContent(options: UploadContentOptions): Promise<UploadResult> {
  return new UploadRun(options).execute(false);
}

/**
 * Continues the upload recorded in `journalPath` when it is for the same app and package and the tenant can still
 * finish it (renews the URL, asks storage for its block list, sends only the missing blocks, commits); otherwise
 * starts afresh like `uploadContent`.
 */
export function resumeOrStart(options: UploadContentOptions & { journalPath: string }): Promise<UploadResult> {
  return new UploadRun(options).execute(true);
}

const GiB = 1024 ** 3;

class UploadRun {
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly deadlines: UploadDeadlines;
  private readonly poll: PollOptions;
  private readonly renewal: RenewalPolicy;
  private readonly endpoints: ContentEndpoints;
  private readonly ctx: FailureContext;
  private pkg: IntunewinPackage | undefined;
  private ownTransport: FetchTransport | undefined;
  private blob!: BlockBlobClient;
  private journal: UploadJournal | undefined;
  private sas: SasManager | undefined;
  private blockSize = DEFAULT_BLOCK_SIZE;
  private blockCount = 0;
  private contentVersionId: string | undefined;
  private fileId: string | undefined;
  private info!: FileEncryptionInfoWire;
  private staged = new Set<string>();
  private blocksSent = 0;
  private bytesSent = 0;
  private resumed = false;

  constructor(private readonly o: UploadContentOptions) {
    this.clock = o.clock ?? Date.now;
    this.sleep = o.sleep ?? abortableSleep;
    this.deadlines = { ...DEFAULT_DEADLINES, ...o.deadlines };
    this.poll = { ...DEFAULT_POLL, ...o.poll };
    this.renewal = { ...DEFAULT_RENEWAL, ...o.renewal };
    this.endpoints = new ContentEndpoints(o.graph, o.appId);
    this.ctx = { stage: "open", appId: o.appId };
  }

  async execute(resume: boolean): Promise<UploadResult> {
    try {
      return await this.run(resume);
    } catch (e) {
      await this.journal?.flush().catch(() => undefined);
      const ctx: FailureContext = {
        ...this.ctx,
        contentVersionId: this.contentVersionId,
        fileId: this.fileId,
        journalPath: this.journal?.entry === undefined ? undefined : this.journal.path,
        blocksStaged: this.blockCount > 0 ? this.staged.size : undefined,
        blockCount: this.blockCount > 0 ? this.blockCount : undefined,
        lastClientRequestId: this.endpoints.lastClientRequestId,
      };
      // A renewal runs inside the block upload: its failure names its own stage.
      if (e instanceof UploadStateError) Object.assign(ctx, { stage: e.stage, uploadState: e.uploadState });
      else if (this.sas?.renewalFailed === true) ctx.stage = "renewal";
      throw toUploadError(this.o.signal?.aborted === true ? abortError(this.o.signal) : e, ctx);
    } finally {
      if (this.o.package === undefined) this.pkg?.close();
      await this.ownTransport?.close();
    }
  }

  private emit(e: UploadProgressEvent): void {
    this.o.onProgress?.(e);
  }

  private enter(stage: UploadStage): void {
    this.ctx.stage = stage;
    this.emit({
      type: "stage",
      stage,
      appId: this.o.appId,
      ...(this.contentVersionId === undefined ? {} : { contentVersionId: this.contentVersionId }),
      ...(this.fileId === undefined ? {} : { fileId: this.fileId }),
    });
  }

  private onState(stage: WaitStage): (s: UploadState) => void {
    return (uploadState) => {
      this.ctx.uploadState = uploadState;
      this.emit({ type: "state", stage, uploadState });
    };
  }

  private async run(resume: boolean): Promise<UploadResult> {
    this.enter("open");
    if (this.o.package === undefined && this.o.packagePath === undefined)
      throw new UploadError({
        code: "NoPackage",
        message: "uploadContent needs a package or a packagePath.",
        stage: "open",
        appId: this.o.appId,
      });
    this.pkg = this.o.package ?? (await openPackage(this.o.packagePath!));
    this.info = fileEncryptionInfo(this.pkg.detection.EncryptionInfo);
    const transport = this.o.storage?.transport ?? (this.ownTransport = createFetchTransport()).send;
    this.blob = new BlockBlobClient({
      transport,
      ...(this.o.storage?.retry === undefined ? {} : { retry: this.o.storage.retry }),
      ...(this.o.storage?.logger === undefined ? {} : { logger: this.o.storage.logger }),
    });

    let entry: UploadJournalEntry | undefined;
    if (this.o.journalPath !== undefined)
      ({ journal: this.journal, entry } = await UploadJournal.open(this.o.journalPath));
    if (resume && entry !== undefined) {
      const digest = packageDigest(this.pkg);
      const reason =
        entry.appId !== this.o.appId
          ? `the journal is for app ${entry.appId}`
          : entry.packageDigest !== digest || entry.payloadSize !== this.pkg.payloadSize
            ? "the journal is for another package"
            : undefined;
      if (reason !== undefined) this.emit({ type: "restarted", reason });
      else {
        const done = await this.tryResume(entry);
        if (done !== undefined) return done;
      }
    }
    return this.fresh();
  }

  // ---- fresh start ----

  private async fresh(): Promise<UploadResult> {
    const pkg = this.pkg!;
    const signal = this.o.signal;
    this.resumed = false;
    this.contentVersionId = this.fileId = undefined;
    this.staged.clear();
    this.blockSize = this.o.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.blockCount = checkBlockLayout(pkg.payloadSize, this.blockSize);

    this.enter("contentVersion");
    const cv = await this.endpoints.createContentVersion(signal);
    this.contentVersionId = cv.id;

    this.enter("file");
    const file = await this.endpoints.createFile(
      cv.id,
      {
        name: pkg.detection.FileName,
        size: pkg.detection.UnencryptedContentSize,
        sizeEncrypted: pkg.payloadSize,
        manifest: null,
        isDependency: false,
      },
      signal,
    );
    this.fileId = file.id;
    if (this.journal !== undefined) {
      const now = new Date().toISOString();
      await this.journal.set({
        version: 1,
        appId: this.o.appId,
        contentVersionId: cv.id,
        fileId: file.id,
        packageDigest: packageDigest(pkg),
        payloadSize: pkg.payloadSize,
        blockSize: this.blockSize,
        blockCount: this.blockCount,
        acknowledged: [],
        blockListCommitted: false,
        commitRequested: false,
        ...(this.o.packagePath === undefined ? {} : { packagePath: this.o.packagePath }),
        createdAt: now,
      });
      await this.journal.flush();
    }

    const ready = await this.waitForUrl(file);
    this.sas = this.newSas(ready);
    return this.uploadAndFinish(false);
  }

  private waitForUrl(initial: MobileAppContentFileWire): Promise<MobileAppContentFileWire> {
    this.enter("sasRequest");
    return waitForUploadState({
      stage: "sasRequest",
      initial,
      read: (s) => this.endpoints.getFile(this.contentVersionId!, this.fileId!, s),
      deadlineMs: this.deadlines.sasRequestMs,
      poll: this.poll,
      clock: this.clock,
      sleep: this.sleep,
      onState: this.onState("sasRequest"),
      ...(this.o.signal === undefined ? {} : { signal: this.o.signal }),
    });
  }

  private newSas(file: MobileAppContentFileWire): SasManager {
    return new SasManager({
      endpoints: this.endpoints,
      contentVersionId: this.contentVersionId!,
      fileId: this.fileId!,
      file,
      policy: this.renewal,
      renewalDeadlineMs: this.deadlines.renewalMs,
      poll: this.poll,
      clock: this.clock,
      sleep: this.sleep,
      onState: this.onState("renewal"),
      onRenewed: (e) => this.emit({ type: "renewed", ...e }),
    });
  }

  // ---- resume ----

  /** Continues the journal's upload; undefined when the tenant cannot finish it (then the caller starts afresh). */
  private async tryResume(entry: UploadJournalEntry): Promise<UploadResult | undefined> {
    const signal = this.o.signal;
    this.contentVersionId = entry.contentVersionId;
    this.fileId = entry.fileId;
    this.blockSize = entry.blockSize;
    this.blockCount = checkBlockLayout(this.pkg!.payloadSize, this.blockSize);
    if (this.blockCount !== entry.blockCount) {
      this.emit({ type: "restarted", reason: "the journal's block layout does not match the package" });
      return undefined;
    }
    this.resumed = true;
    this.enter("sasRequest");
    let file: MobileAppContentFileWire;
    try {
      file = await this.endpoints.getFile(entry.contentVersionId, entry.fileId, signal);
    } catch (e) {
      if (e instanceof GraphError && e.status === 404) {
        this.emit({ type: "restarted", reason: "the journal's content file no longer exists" });
        return undefined;
      }
      throw e;
    }
    this.ctx.uploadState = file.uploadState;
    const resumed = (blocksPresent: number, source: "storage" | "journal" = "storage"): void =>
      this.emit({
        type: "resumed",
        contentVersionId: entry.contentVersionId,
        fileId: entry.fileId,
        uploadState: file.uploadState,
        blocksPresent,
        blockCount: this.blockCount,
        source,
      });

    switch (file.uploadState) {
      case "commitFileSuccess":
        resumed(this.blockCount);
        return this.finish();
      case "commitFilePending":
        resumed(this.blockCount);
        await this.waitForCommit();
        return this.finish();
      case "azureStorageUriRequestPending":
        file = await this.waitForUrl(file);
        break;
      case "azureStorageUriRenewalPending":
        this.enter("renewal");
        file = await waitForUploadState({
          stage: "renewal",
          initial: file,
          read: (s) => this.endpoints.getFile(entry.contentVersionId, entry.fileId, s),
          deadlineMs: this.deadlines.renewalMs,
          poll: this.poll,
          clock: this.clock,
          sleep: this.sleep,
          onState: this.onState("renewal"),
          ...(signal === undefined ? {} : { signal }),
        });
        break;
      case "azureStorageUriRequestSuccess":
      case "azureStorageUriRenewalSuccess":
        break;
      default:
        this.emit({
          type: "restarted",
          reason: `the journal's content file is in ${file.uploadState} and cannot be finished`,
        });
        return undefined;
    }

    this.sas = this.newSas(file);
    // The URL may have lapsed while no process was running (a resumed upload renews the SAS first).
    this.enter("renewal");
    await this.sas.renew("resume", signal);

    this.enter("blockList");
    const list = await this.readBlockList();
    // Without a listing, the journal's acknowledged blocks are taken as present; if storage lost some, the block
    // list is refused and they are sent again (`uploadAndFinish`).
    const { present, listCommitted } =
      list === undefined
        ? { present: this.journalBlocks(entry), listCommitted: entry.blockListCommitted }
        : this.compare(list);
    for (const i of present) this.staged.add(blockId(i));
    resumed(present.size, list === undefined ? "journal" : "storage");
    await this.journal?.update({ acknowledged: [...this.staged] });
    return this.uploadAndFinish(listCommitted, present, list === undefined);
  }

  /**
   * Get Block List with the URL just renewed; undefined when storage refuses it (403): Intune's SAS permissions are
   * not documented, and a SAS without read cannot list blocks. Never renewed again for this: a refusal right after a
   * renewal is not an expiry, and the blocks' own requests still renew on a 403.
   */
  private async readBlockList(): Promise<BlockList | undefined> {
    const signal = this.o.signal ?? new AbortController().signal;
    const url = await this.sas!.ready(signal);
    try {
      return await this.blob.getBlockList(url.url, signal);
    } catch (e) {
      if (e instanceof StorageError && e.status === 403) return undefined;
      throw e;
    }
  }

  /** The block indexes the journal recorded as acknowledged. */
  private journalBlocks(entry: UploadJournalEntry): Set<number> {
    const acknowledged = new Set(entry.acknowledged);
    const present = new Set<number>();
    for (let i = 0; i < this.blockCount; i++) if (acknowledged.has(blockId(i))) present.add(i);
    return present;
  }

  /** Which blocks storage holds with the right length; whether the full list is already committed. */
  private compare(list: BlockList): { present: Set<number>; listCommitted: boolean } {
    const expectedSize = (i: number): number => Math.min(this.blockSize, this.pkg!.payloadSize - i * this.blockSize);
    const sizes = new Map<string, number>();
    for (const b of [...list.committed, ...list.uncommitted]) sizes.set(b.name, b.size);
    const present = new Set<number>();
    for (let i = 0; i < this.blockCount; i++) if (sizes.get(blockId(i)) === expectedSize(i)) present.add(i);
    const listCommitted =
      list.committed.length === this.blockCount &&
      list.committed.every((b, i) => b.name === blockId(i) && b.size === expectedSize(i));
    return { present, listCommitted };
  }

  // ---- blocks, block list, commit ----

  /** Runs a storage call with the current URL; a 403 renews it (once per URL) and retries, twice at most. */
  private async withRenewal<T>(call: (url: string) => Promise<T>): Promise<T> {
    const signal = this.o.signal ?? new AbortController().signal;
    for (let refusals = 0; ; refusals++) {
      const url = await this.sas!.ready(signal);
      try {
        return await call(url.url);
      } catch (e) {
        if (!(e instanceof StorageError) || e.status !== 403 || refusals >= 2) throw e;
        await this.sas!.refused(url, e, signal);
      }
    }
  }

  private async uploadAndFinish(
    listCommitted: boolean,
    present: ReadonlySet<number> = new Set(),
    presentFromJournal = false,
  ): Promise<UploadResult> {
    const signal = this.o.signal;
    const ids = Array.from({ length: this.blockCount }, (_, i) => blockId(i));
    if (!listCommitted) {
      if (present.size < this.blockCount) await this.sendBlocks(present);
      this.enter("blockList");
      try {
        await this.withRenewal((url) => this.blob.putBlockList(url, ids, signal));
      } catch (e) {
        // Blocks the journal recorded but storage no longer holds (uncommitted blocks expire after about a week):
        // the list is refused as naming unknown blocks. Send those blocks again, then the list.
        const lost =
          presentFromJournal &&
          present.size > 0 &&
          e instanceof StorageError &&
          e.status === 400 &&
          e.storageCode === "InvalidBlockList";
        if (!lost) throw e;
        const sentNow = new Set([...ids.keys()].filter((i) => !present.has(i)));
        for (const i of present) this.staged.delete(blockId(i));
        await this.sendBlocks(sentNow);
        this.enter("blockList");
        await this.withRenewal((url) => this.blob.putBlockList(url, ids, signal));
      }
      await this.journal?.update({ blockListCommitted: true });
    }
    await this.commit();
    return this.finish();
  }

  /** Put Block for every block not in `present`, in parallel, recording each acknowledged one. */
  private async sendBlocks(present: ReadonlySet<number>): Promise<void> {
    const pkg = this.pkg!;
    const signal = this.o.signal;
    this.enter("blocks");
    let bytesDone = 0;
    for (const i of present) bytesDone += Math.min(this.blockSize, pkg.payloadSize - i * this.blockSize);
    const progress = (): void =>
      this.emit({
        type: "bytes",
        bytesDone,
        totalBytes: pkg.payloadSize,
        blocksDone: this.staged.size,
        blockCount: this.blockCount,
      });
    progress();
    // A stored payload is read block by block at its position (no copies); otherwise streamed.
    const positional = await pkg.openPayloadReader();
    const source: Readable | PayloadReader = positional ?? (await pkg.openPayload());
    let r: Awaited<ReturnType<typeof uploadBlocks>>;
    try {
      r = await uploadBlocks({
        client: this.blob,
        source,
        size: pkg.payloadSize,
        blockSize: this.blockSize,
        concurrency: this.o.concurrency ?? concurrencyFor(this.blockSize),
        urls: this.sas!,
        skip: present,
        sleep: this.sleep,
        ...(signal === undefined ? {} : { signal }),
        onBlock: (b) => {
          this.staged.add(b.id);
          bytesDone += b.size;
          void this.journal?.acknowledge(b.id);
          progress();
        },
      });
    } finally {
      await positional?.close();
    }
    this.blocksSent += r.sentBlocks;
    this.bytesSent += r.sentBytes;
    await this.journal?.flush();
  }

  private async commit(): Promise<void> {
    const signal = this.o.signal;
    const cv = this.contentVersionId!;
    const fileId = this.fileId!;
    this.enter("commit");
    try {
      await this.endpoints.commit(cv, fileId, this.info, signal);
    } catch (e) {
      // A dropped connection may hide a commit the service took: look before posting it again.
      if (!(e instanceof NetworkError) || e.failure !== "dropped") throw e;
      const f = await this.endpoints.getFile(cv, fileId, signal);
      if (!f.uploadState.startsWith("commitFile")) await this.endpoints.commit(cv, fileId, this.info, signal);
    }
    await this.journal?.update({ commitRequested: true });
    await this.waitForCommit();
  }

  private async waitForCommit(): Promise<void> {
    this.ctx.stage = "commit";
    await waitForUploadState({
      stage: "commit",
      read: (s) => this.endpoints.getFile(this.contentVersionId!, this.fileId!, s),
      deadlineMs: this.deadlines.commitMs + Math.ceil((this.pkg!.payloadSize / GiB) * this.deadlines.commitMsPerGiB),
      poll: this.poll,
      clock: this.clock,
      sleep: this.sleep,
      onState: this.onState("commit"),
      ...(this.o.signal === undefined ? {} : { signal: this.o.signal }),
    });
  }

  // ---- point the app at the content, verify ----

  private async finish(): Promise<UploadResult> {
    const signal = this.o.signal;
    const cv = this.contentVersionId!;
    this.enter("patch");
    await this.endpoints.setCommittedContentVersion(cv, this.o.largeIcon, signal, this.o.commitPatch);
    this.enter("verify");
    const app = await this.endpoints.getApp(signal);
    if (app.committedContentVersion !== cv)
      throw new UploadError({
        code: "CommitNotApplied",
        message: `After the PATCH, app ${this.o.appId} has committedContentVersion ${JSON.stringify(app.committedContentVersion)}, not ${cv}.`,
        stage: "verify",
        appId: this.o.appId,
        contentVersionId: cv,
        fileId: this.fileId,
        clientRequestId: this.endpoints.lastClientRequestId,
      });
    await this.journal?.remove();
    return {
      appId: this.o.appId,
      contentVersionId: cv,
      fileId: this.fileId!,
      blockSize: this.blockSize,
      blockCount: this.blockCount,
      blocksSent: this.blocksSent,
      bytesSent: this.bytesSent,
      renewals: this.sas?.renewals ?? 0,
      resumed: this.resumed,
      publishingState: app.publishingState,
    };
  }
}
