/**
 * Typed failures of the content upload. Every failure is an `UploadError`: a `PublisherError` whose kind is the
 * cause's (graph, timeout, cancelled, network, auth, permission, input) and whose code is stable, with what the
 * tenant holds at that point (app, content version, file), the upload stage, the last upload state seen, the Graph
 * request ids of the call that failed (or the client-request-id of the last call, for state failures) and the
 * journal to resume from. Messages never hold a SAS signature or a key: URLs go through `redactUrl`.
 */
import type { ErrorCode } from "../../core/errors.js";
import { PublisherError } from "../../core/errors.js";
import type { UploadState } from "../../core/wire/graph.js";
import { NetworkError } from "../../clients/http/errors.js";
import { GraphError } from "../../clients/graph/errors.js";
import { StorageError } from "../../clients/blob/block-blob.js";

export type UploadStage =
  | "open" // reading the package
  | "contentVersion" // POST contentVersions
  | "file" // POST files
  | "sasRequest" // waiting for azureStorageUriRequestSuccess
  | "renewal" // renewUpload and its wait
  | "blocks" // Put Block
  | "blockList" // Put Block List (and Get Block List on resume)
  | "commit" // POST commit and the wait for commitFileSuccess
  | "patch" // PATCH committedContentVersion
  | "verify"; // GET the app

/** What exists in the tenant for this upload, so a caller can resume, clean up or report it. */
export interface UploadLeftover {
  appId: string;
  contentVersionId?: string;
  fileId?: string;
  /** the journal that `resumeOrStart` continues from, when one is kept */
  journalPath?: string;
  /** blocks acknowledged by storage so far (this run and earlier ones) */
  blocksStaged?: number;
  blockCount?: number;
}

export interface UploadErrorDetails extends UploadLeftover {
  code: ErrorCode;
  /** the service's code of the cause, when it has one */
  serviceCode?: string | undefined;
  message: string;
  hint?: string;
  stage: UploadStage;
  uploadState?: UploadState;
  requestId?: string;
  clientRequestId?: string;
  cause?: unknown;
}

export class UploadError extends PublisherError {
  readonly stage: UploadStage;
  readonly uploadState: UploadState | undefined;
  readonly requestId: string | undefined;
  readonly clientRequestId: string | undefined;
  readonly leftover: UploadLeftover;

  constructor(d: UploadErrorDetails) {
    const ids = [
      d.requestId && `request-id ${d.requestId}`,
      d.clientRequestId && `client-request-id ${d.clientRequestId}`,
    ]
      .filter(Boolean)
      .join(", ");
    const already = d.message.includes("request-id") || ids === "";
    super(d.code, already ? d.message : `${d.message} (${ids})`, {
      hint: d.hint,
      cause: d.cause,
      serviceCode: d.serviceCode,
    });
    this.name = "UploadError";
    this.stage = d.stage;
    this.uploadState = d.uploadState;
    this.requestId = d.requestId;
    this.clientRequestId = d.clientRequestId;
    this.leftover = {
      appId: d.appId,
      ...(d.contentVersionId === undefined ? {} : { contentVersionId: d.contentVersionId }),
      ...(d.fileId === undefined ? {} : { fileId: d.fileId }),
      ...(d.journalPath === undefined ? {} : { journalPath: d.journalPath }),
      ...(d.blocksStaged === undefined ? {} : { blocksStaged: d.blocksStaged }),
      ...(d.blockCount === undefined ? {} : { blockCount: d.blockCount }),
    };
  }
}

const STAGE_TEXT: Record<UploadStage, string> = {
  open: "reading the package",
  contentVersion: "creating the content version",
  file: "registering the content file",
  sasRequest: "waiting for the upload URL",
  renewal: "renewing the upload URL",
  blocks: "uploading blocks",
  blockList: "writing the block list",
  commit: "committing the file",
  patch: "setting committedContentVersion",
  verify: "verifying the app",
};

export function stageText(stage: UploadStage): string {
  return STAGE_TEXT[stage];
}

export interface FailureContext extends UploadLeftover {
  stage: UploadStage;
  uploadState?: UploadState;
  /** the client-request-id of our last Graph call, when the cause carries none */
  lastClientRequestId?: string;
}

/** Wraps any failure as an `UploadError` with the context, keeping the cause's kind, code and ids. */
export function toUploadError(e: unknown, c: FailureContext): UploadError {
  if (e instanceof UploadError) return e;
  const where = `Upload of content for app ${c.appId} failed while ${stageText(c.stage)}`;
  const base = {
    stage: c.stage,
    uploadState: c.uploadState,
    appId: c.appId,
    contentVersionId: c.contentVersionId,
    fileId: c.fileId,
    journalPath: c.journalPath,
    blocksStaged: c.blocksStaged,
    blockCount: c.blockCount,
    cause: e,
  };
  if (e instanceof GraphError || e instanceof StorageError || e instanceof NetworkError)
    return new UploadError({
      ...base,
      code: e.code,
      serviceCode: e.serviceCode,
      message: `${where}: ${e.message}`,
      hint: e.hint,
      requestId: e instanceof NetworkError ? undefined : e.requestId,
      clientRequestId: e.clientRequestId,
    });
  if (e instanceof PublisherError) {
    const resumable = c.journalPath !== undefined && (e.kind === "cancelled" || e.kind === "timeout");
    return new UploadError({
      ...base,
      code: e.code,
      serviceCode: e.serviceCode,
      message: `${where}: ${e.message}`,
      hint:
        e.hint ??
        (resumable ? `Run it again to resume from the journal ${c.journalPath} (staged blocks are kept).` : undefined),
      clientRequestId: c.lastClientRequestId,
    });
  }
  const errno = e as NodeJS.ErrnoException;
  if (typeof errno?.code === "string" && typeof errno.syscall === "string")
    return new UploadError({
      ...base,
      code: "LocalIo",
      message: `${where}: ${errno.message}`,
    });
  return new UploadError({
    ...base,
    code: "Internal",
    message: `${where}: ${e instanceof Error ? e.message : String(e)} (a bug in this tool)`,
  });
}
