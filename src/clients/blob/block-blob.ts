/**
 * Block blob operations on an upload URL (a blob-scoped SAS, docs/reference/graph-win32-upload.md §2.5–2.6;
 * docs/reference/azurite.md §1.3): Put Block, Put Block List and Get Block List.
 *
 * Why raw requests through our own HTTP pipeline rather than `@azure/storage-blob`'s BlockBlobClient:
 * - a 403 from storage must reach the caller at once, as a typed error, so it can call Graph's `renewUpload`
 *   and resend *that* block; the SDK has its own retry loop and error type (`RestError`, whose `request` keeps
 *   the full SAS URL) in between;
 * - retries, `Retry-After`, CA trust, proxies and abort behave exactly as for Graph (the same transport and retry
 *   policy, docs/graph-client.md), and every URL in a message or log goes through `redactUrl`, so the `sig` never
 *   leaves this module;
 * - tests count Put Block requests at the transport, and the SDK's `x-ms-version` (2026-04-06) is newer than
 *   Azurite accepts without `--skipApiVersionCheck` (docs/reference/azurite.md §1.1); like every Intune client we send
 *   none, so the SAS's `sv` applies.
 * The URL is treated as opaque: operations are appended as query parameters, never rebuilt from host and path.
 */
import { randomUUID } from "node:crypto";
import { XMLParser } from "fast-xml-parser";
import { PublisherError } from "../../core/errors.js";
import { HttpPipeline } from "../http/pipeline.js";
import { logPolicy } from "../http/log-policy.js";
import { redactUrl } from "../http/redact.js";
import { retryPolicy } from "../http/retry-policy.js";
import type { RetryOptions } from "../http/retry-policy.js";
import type { HttpLogger, HttpPolicy, HttpResponse, HttpTransport, StreamedBody } from "../http/types.js";

/** Azure Storage's limit of blocks per blob (uncommitted or committed). */
export const MAX_BLOCKS_PER_BLOB = 50_000;
/** Put Block's size limit for service versions from 2016-05-31 up to 2019-12-12 (the SAS's `sv` is 2017-04-17). */
export const MAX_BLOCK_SIZE = 100 * 1024 * 1024;
/** Decimal digits of a block id: every id of a blob must have the same length (§2.6); 6 digits cover 50 000. */
export const BLOCK_ID_DIGITS = 6;

/**
 * The id of block `index`: base64 of its zero-padded decimal index, always 8 characters (6 bytes), so every id of
 * the blob has the same length and needs no `=` padding (the 4-digit ids of the anchors break at block 10 000).
 */
export function blockId(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= 10 ** BLOCK_ID_DIGITS)
    throw new RangeError(`Block index ${index} is outside 0..${10 ** BLOCK_ID_DIGITS - 1}.`);
  return Buffer.from(String(index).padStart(BLOCK_ID_DIGITS, "0"), "ascii").toString("base64");
}

/** Storage answered with an error status; `storageCode` is its `x-ms-error-code` (e.g. AuthenticationFailed). */
export class StorageError extends PublisherError {
  readonly status: number;
  readonly storageCode: string | undefined;
  readonly operation: string;
  /** redacted (no SAS parameters) */
  readonly url: string;
  /** storage's `x-ms-request-id` */
  readonly requestId: string | undefined;
  readonly clientRequestId: string | undefined;

  constructor(d: {
    status: number;
    storageCode: string | undefined;
    storageMessage: string | undefined;
    operation: string;
    url: string;
    requestId: string | undefined;
    clientRequestId: string | undefined;
  }) {
    const ids = [
      d.requestId && `x-ms-request-id ${d.requestId}`,
      d.clientRequestId && `x-ms-client-request-id ${d.clientRequestId}`,
    ].filter(Boolean);
    super(
      "StorageRequestFailed",
      `Azure Storage answered ${d.status}${d.storageCode ? ` ${d.storageCode}` : ""} to ${d.operation} ` +
        `${d.url}${d.storageMessage ? `: ${d.storageMessage}` : ""}${ids.length > 0 ? ` (${ids.join(", ")})` : ""}`,
      {
        hint:
          d.status === 403
            ? "The upload URL was refused (expired or revoked): it must be renewed with renewUpload."
            : undefined,
        // storage's x-ms-error-code, or StorageNNN when the answer carried none
        serviceCode: d.storageCode ?? `Storage${d.status}`,
      },
    );
    this.name = "StorageError";
    this.status = d.status;
    this.storageCode = d.storageCode;
    this.operation = d.operation;
    this.url = d.url;
    this.requestId = d.requestId;
    this.clientRequestId = d.clientRequestId;
  }
}

export interface BlockInfo {
  /** base64 block id as sent */
  name: string;
  size: number;
}

export interface BlockList {
  committed: BlockInfo[];
  uncommitted: BlockInfo[];
}

export interface BlockBlobClientOptions {
  /** e.g. `createFetchTransport({ trustedCaPem }).send`; no Authorization header is ever added (the SAS is the key) */
  transport: HttpTransport;
  /** the Graph pipeline's retry rules apply (429/503/504, dropped connections for PUT); defaults as there */
  retry?: RetryOptions;
  /** redacted lines, as for Graph */
  logger?: HttpLogger;
}

/** Sets `x-ms-client-request-id` (storage's name for it) once per logical request, so retries share it. */
const storageRequestIdPolicy: HttpPolicy = {
  name: "storageRequestId",
  send(request, next) {
    if (request.headers["x-ms-client-request-id"] !== undefined) return next(request);
    return next({ ...request, headers: { ...request.headers, "x-ms-client-request-id": randomUUID() } });
  },
};

const xml = new XMLParser({ isArray: (name) => name === "Block", parseTagValue: false });

/** `<Error><Code>…</Code><Message>…</Message></Error>`: only the first line of Message (the rest is ids and time). */
function storageMessage(body: string): string | undefined {
  const m = /<Message>([^<]*)<\/Message>/.exec(body);
  return m?.[1]?.split(/\r?\n/)[0]?.trim() || undefined;
}

function withQuery(sasUrl: string, params: string): string {
  return `${sasUrl}${sasUrl.includes("?") ? "&" : "?"}${params}`;
}

export class BlockBlobClient {
  private readonly pipeline: HttpPipeline;

  constructor(options: BlockBlobClientOptions) {
    const policies: HttpPolicy[] = [storageRequestIdPolicy, retryPolicy({ logger: options.logger, ...options.retry })];
    if (options.logger !== undefined) policies.push(logPolicy({ logger: options.logger }));
    this.pipeline = new HttpPipeline(options.transport, policies);
  }

  /**
   * Put Block (201). The body is sent with its Content-Length (Azure refuses chunked bodies: 411): bytes in memory, or
   * a streamed body (read while it is sent; every retry opens it again).
   */
  async putBlock(sasUrl: string, id: string, data: Uint8Array | StreamedBody, signal?: AbortSignal): Promise<void> {
    const url = withQuery(sasUrl, `comp=block&blockid=${encodeURIComponent(id)}`);
    const response = await this.pipeline.send({
      method: "PUT",
      url,
      headers: { "content-type": "application/octet-stream", "x-ms-blob-type": "BlockBlob" },
      ...(data instanceof Uint8Array ? { body: data } : { streamedBody: data }),
      signal,
    });
    expectStatus(response, [201], "Put Block");
  }

  /** Put Block List (201) with every id as `<Latest>`, in blob order. */
  async putBlockList(sasUrl: string, ids: readonly string[], signal?: AbortSignal): Promise<void> {
    const body =
      '<?xml version="1.0" encoding="utf-8"?><BlockList>' +
      ids.map((id) => `<Latest>${id}</Latest>`).join("") +
      "</BlockList>";
    const response = await this.pipeline.send({
      method: "PUT",
      url: withQuery(sasUrl, "comp=blocklist"),
      headers: { "content-type": "application/xml" },
      body: Buffer.from(body, "utf8"),
      signal,
    });
    expectStatus(response, [201], "Put Block List");
  }

  /** Get Block List (`blocklisttype=all`); a blob with nothing staged yet (404 BlobNotFound) has empty lists. */
  async getBlockList(sasUrl: string, signal?: AbortSignal): Promise<BlockList> {
    const response = await this.pipeline.send({
      method: "GET",
      url: withQuery(sasUrl, "comp=blocklist&blocklisttype=all"),
      headers: {},
      signal,
    });
    if (response.status === 404) return { committed: [], uncommitted: [] };
    expectStatus(response, [200], "Get Block List");
    return parseBlockList(response.bodyText);
  }
}

export function parseBlockList(body: string): BlockList {
  type Blocks = { Block?: { Name?: unknown; Size?: unknown }[] } | "" | undefined;
  let parsed: { BlockList?: { CommittedBlocks?: Blocks; UncommittedBlocks?: Blocks } };
  try {
    parsed = xml.parse(body) as typeof parsed;
  } catch (e) {
    throw new PublisherError("InvalidBlockList", "Azure Storage answered Get Block List with invalid XML.", {
      cause: e,
    });
  }
  const list = (b: Blocks): BlockInfo[] =>
    (typeof b === "object" ? (b.Block ?? []) : []).map((x) => ({ name: String(x.Name ?? ""), size: Number(x.Size) }));
  return {
    committed: list(parsed.BlockList?.CommittedBlocks),
    uncommitted: list(parsed.BlockList?.UncommittedBlocks),
  };
}

function expectStatus(response: HttpResponse, ok: number[], operation: string): void {
  if (ok.includes(response.status)) return;
  const h = response.headers;
  throw new StorageError({
    status: response.status,
    storageCode: h["x-ms-error-code"] ?? /<Code>([^<]*)<\/Code>/.exec(response.bodyText)?.[1],
    storageMessage: storageMessage(response.bodyText),
    operation,
    url: redactUrl(response.request.url),
    requestId: h["x-ms-request-id"],
    clientRequestId: h["x-ms-client-request-id"] ?? response.request.headers["x-ms-client-request-id"],
  });
}
