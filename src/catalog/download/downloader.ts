/**
 * Verified downloads of vendor installers: streamed to a partial file in the cache folder, hashed on the way, and
 * moved into the content-addressed cache only once the SHA-256 matches the published hash, or the lock file's for
 * that version, or (first download without either) is recorded in the lock file. A mismatch deletes the bytes and
 * fails that download (`integrity`, exit 10). Resumes with Range + If-Range (a strong ETag or Last-Modified of the
 * answer the bytes came from; a changed file restarts from zero), bounded retries with backoff, bounded redirects,
 * https only unless a published hash pins the file, a size cap, URLs with credentials refused, parallel downloads
 * with a limit, progress with rate and ETA. The transport (src/clients/http) brings proxy support and TLS trust.
 * Rules and sources: docs/catalog.md "Downloads".
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { noteGarbage } from "../../platform/gc.js";
import { abortError, NetworkError, PROXY_CODE, toNetworkError } from "../../clients/http/errors.js";
import { backoffDelay, parseRetryAfterMs } from "../../clients/http/retry-policy.js";
import type { SecretRegistry } from "../../clients/http/redact.js";
import { abortableSleep } from "../../clients/http/sleep.js";
import type { StreamedResponse } from "../../clients/http/stream-transport.js";
import type { HttpLogger, HttpRequest, Sleep } from "../../clients/http/types.js";
import { BodyReader } from "./body-reader.js";
import { DownloadCache } from "./cache.js";
import type { PartialFiles, UrlRecord } from "./cache.js";
import {
  badUrl,
  hashMismatch,
  httpError,
  incomplete,
  lockMismatch,
  redirectRefused,
  shown,
  tooLarge,
} from "./errors.js";
import { StreamDigest } from "./digest.js";
import { downloadFileName } from "./file-name.js";
import { DownloadLockFile } from "./lock-file.js";
import { RateMeter } from "./progress.js";

/** 8 GiB: above any real installer (Intune's own package limit is 30 GB). */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 8 * 1024 ** 3;
export const DEFAULT_MAX_REDIRECTS = 10;
export const DEFAULT_DOWNLOAD_ATTEMPTS = 6;
export const DEFAULT_DOWNLOAD_CONCURRENCY = 4;
/** The rate is sampled at most this often. */
const PROGRESS_SAMPLE_MS = 100;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Answers worth another attempt: timeouts, throttling and server errors (RFC 9110 §15.5.9, §15.6). */
const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export interface DownloadRequest {
  url: string;
  /** the published SHA-256 (a manifest's InstallerSha256, a feed's hash), hex in any case */
  sha256?: string;
  /** the product (PackageIdentifier, catalog entry id): names the lock file's row; default the URL */
  product?: string;
  /** who asked, echoed in the events (sync: the subscription's definition id, so progress goes to its row) */
  label?: string;
  /** the version this file is: the lock file's row; absent with `versionFromFile` */
  version?: string;
  /**
   * For a fixed URL whose version is read from the file (an MSI's ProductVersion, see `msiProductVersion`): called
   * on the complete, hashed file before the lock file is checked.
   */
  versionFromFile?: (path: string) => Promise<string>;
  signal?: AbortSignal;
}

/**
 * A fixed URL: its version is read from the file (`versionFromFile`, no `version`) and no hash is published, so the
 * file there may change. It is asked for conditionally (If-None-Match / If-Modified-Since with what the cache
 * recorded of the last download): a 304 answers the cached file without a body.
 */
export function isFixedUrlRequest(request: DownloadRequest): boolean {
  return request.versionFromFile !== undefined && request.version === undefined && request.sha256 === undefined;
}

export type HashCheck =
  /** matched the published hash */
  | "published"
  /** matched the lock file's row for this version */
  | "lock"
  /** first download of this version, now recorded in the lock file */
  | "recorded"
  /** no published hash and no lock file to check or record it */
  | "none";

export interface DownloadResult {
  url: string;
  /** after redirects; the URL asked for when the file came from the cache */
  finalUrl: string;
  /** the verified file in the cache (read-only use: copy it to change it) */
  path: string;
  sha256: string;
  size: number;
  fromCache: boolean;
  version: string | undefined;
  check: HashCheck;
  /** a safe name to save it under (Content-Disposition or the URL's last segment) */
  fileName: string;
  /** a fixed URL answered 304 Not Modified: the file last downloaded from it, from the cache */
  notModified?: boolean;
}

/** What every download event says of its request: the product and, when the request has one, its label. */
interface Requester {
  product?: string | undefined;
  label?: string;
}

function requester(r: DownloadRequest): Requester {
  return r.label === undefined ? { product: r.product } : { product: r.product, label: r.label };
}

export type DownloadEvent = Requester &
  (
    | { type: "start"; url: string; total?: number; resumedFrom: number; attempt: number }
    | {
        type: "progress";
        url: string;
        bytes: number;
        total?: number;
        /** bytes per second over the last seconds */
        rate: number;
        etaSeconds?: number;
      }
    | { type: "retry"; url: string; attempt: number; reason: string; delayMs: number }
    | { type: "done"; url: string; sha256: string; size: number; fromCache: boolean }
  );

export type DownloadOutcome =
  | { request: DownloadRequest; result: DownloadResult; error?: never }
  | { request: DownloadRequest; error: PublisherError; result?: never };

export interface DownloaderOptions {
  /** the cache folder (`defaultDownloadCacheDir`) */
  cacheDir: string;
  /** our streaming transport (`createStreamTransport`): proxy, TLS trust of an extra CA, idle timeout */
  transport: { stream(request: HttpRequest): Promise<StreamedResponse> };
  /** the lock file beside the catalog configuration; absent: hashes of first downloads are not recorded */
  lockFile?: string;
  maxBytes?: number;
  maxRedirects?: number;
  /** attempts per download, resumes included */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** downloads at once in `downloadAll` */
  concurrency?: number;
  onProgress?: (event: DownloadEvent) => void;
  /** least ms between two progress events of one download; default 250 */
  progressIntervalMs?: number;
  sleep?: Sleep;
  random?: () => number;
  clock?: () => number;
  /** registers the URLs' secret parts (a password, a SAS `sig`) so nothing prints them */
  secrets?: SecretRegistry;
  /** a line per request (method, redacted URL, status) */
  logger?: HttpLogger;
  /**
   * true: hash and write on a worker thread shared by the downloads (digest.ts); default false: on this thread. On an
   * idle two-core machine both download at the same speed, and this thread's way uses 0.5–0.9 CPU-s per GiB and
   * ≈ 12 MiB less (bench/README.md "download"); the worker pays off only when the download's thread is the limit and a
   * core is free.
   */
  hashThread?: boolean;
}

interface Fetched {
  files: PartialFiles;
  sha256: string;
  size: number;
  finalUrl: string;
  fileName: string;
  etag?: string;
  lastModified?: string;
  notModified?: never;
}

/** The conditional request of a fixed URL found the cached file current (304). */
interface NotModified {
  files: PartialFiles;
  notModified: true;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

function parseContentRange(v: string | undefined): { start: number; end: number; total: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(v?.trim() ?? "");
  if (m === null) return undefined;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return start <= end && end < total ? { start, end, total } : undefined;
}

function contentLength(v: string | undefined): number | undefined {
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
}

/** A strong ETag (a weak one cannot be used in If-Range, RFC 9110 §13.1.5), else Last-Modified. */
function validatorOf(headers: Record<string, string>): string | undefined {
  const etag = headers.etag?.trim();
  if (etag !== undefined && etag.startsWith('"')) return etag;
  return headers["last-modified"]?.trim() || undefined;
}

function diskError(e: unknown, dir: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "ENOSPC" || code === "EDQUOT")
    return new PublisherError("DiskFull", `The disk of the download cache ${dir} is full (${code}).`, {
      hint: "Free space there, or point the cache elsewhere (XDG_CACHE_HOME).",
      cause: e,
    });
  if (code === "EACCES" || code === "EPERM")
    return new PublisherError("AccessDenied", `The download cache ${dir} is not writable (${code}).`, {
      hint: "Make it writable for this user, or point the cache elsewhere (XDG_CACHE_HOME).",
      cause: e,
    });
  return e;
}

export class Downloader {
  private readonly cache: DownloadCache;
  private readonly lock: DownloadLockFile | undefined;
  private readonly o: Required<
    Pick<
      DownloaderOptions,
      "maxBytes" | "maxRedirects" | "maxAttempts" | "baseDelayMs" | "maxDelayMs" | "concurrency" | "progressIntervalMs"
    >
  >;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly clock: () => number;
  private readonly inflight = new Map<string, Promise<DownloadResult>>();

  /** the cache folder (the unpacked zips of nested installers live there too) */
  get cacheDir(): string {
    return this.options.cacheDir;
  }

  constructor(private readonly options: DownloaderOptions) {
    this.cache = new DownloadCache(options.cacheDir);
    this.lock = options.lockFile === undefined ? undefined : new DownloadLockFile(options.lockFile);
    this.o = {
      maxBytes: options.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES,
      maxRedirects: options.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
      maxAttempts: options.maxAttempts ?? DEFAULT_DOWNLOAD_ATTEMPTS,
      baseDelayMs: options.baseDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      concurrency: options.concurrency ?? DEFAULT_DOWNLOAD_CONCURRENCY,
      progressIntervalMs: options.progressIntervalMs ?? 250,
    };
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? Date.now;
  }

  /** Downloads several files, at most `concurrency` at once; each succeeds or fails on its own. */
  async downloadAll(requests: readonly DownloadRequest[]): Promise<DownloadOutcome[]> {
    const out: DownloadOutcome[] = new Array<DownloadOutcome>(requests.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < requests.length; i = next++) {
        const request = requests[i]!;
        try {
          out[i] = { request, result: await this.download(request) };
        } catch (e) {
          out[i] = {
            request,
            error: isPublisherError(e)
              ? e
              : new PublisherError("Internal", `Download failed: ${(e as Error).message}`, { cause: e }),
          };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.o.concurrency, requests.length)) }, worker));
    return out;
  }

  /** The file from the cache, verified again, without any request; undefined when the cache does not hold it. */
  async cached(request: DownloadRequest): Promise<DownloadResult | undefined> {
    const url = this.checkUrl(request);
    const { expected, published } = await this.expectedHash(request, url);
    if (expected === undefined) return undefined;
    const hit = await this.cache.verified(expected);
    if (hit === undefined) return undefined;
    return {
      url,
      finalUrl: url,
      path: hit.path,
      sha256: expected,
      size: hit.size,
      fromCache: true,
      version: request.version,
      check: published !== undefined ? "published" : "lock",
      fileName: downloadFileName(undefined, url),
    };
  }

  /**
   * A fixed URL without downloading (a dry run): the file last downloaded from it, verified again, when the server
   * answers a conditional HEAD with 304 Not Modified; else undefined (a real run would download).
   */
  async cachedFixed(request: DownloadRequest): Promise<DownloadResult | undefined> {
    const url = this.checkUrl(request);
    const record = await this.cache.urlRecord(url);
    const hit = record === undefined ? undefined : await this.cache.verified(record.sha256);
    if (record === undefined || hit === undefined) return undefined;
    const headers: Record<string, string> =
      record.etag !== undefined
        ? { "if-none-match": record.etag }
        : record.lastModified !== undefined
          ? { "if-modified-since": record.lastModified }
          : {};
    if (Object.keys(headers).length === 0) return undefined;
    const { res, reader } = await this.open(url, headers, false, request.signal, "HEAD");
    reader.stop();
    if (res.status !== 304) return undefined;
    const version = record.version ?? (await request.versionFromFile?.(hit.path));
    return {
      url,
      finalUrl: url,
      path: hit.path,
      sha256: record.sha256,
      size: record.size,
      fromCache: true,
      notModified: true,
      version,
      check: "none",
      fileName: downloadFileName(undefined, url),
    };
  }

  /** The hash the file must have: the published one, else the lock file's row for this version. */
  private async expectedHash(
    request: DownloadRequest,
    url: string,
  ): Promise<{
    expected: string | undefined;
    published: string | undefined;
    lockRow: Awaited<ReturnType<DownloadLockFile["lookup"]>>;
  }> {
    const published = request.sha256?.toLowerCase();
    const id = request.product ?? shown(url);
    let lockRow = undefined as Awaited<ReturnType<DownloadLockFile["lookup"]>>;
    if (published === undefined && this.lock !== undefined && request.version !== undefined)
      lockRow = await this.lock.lookup(id, request.version);
    return { expected: published ?? lockRow?.sha256, published, lockRow };
  }

  /**
   * The file's size as the server announces it (HEAD, redirects followed and checked as a download's), without
   * downloading it; undefined when the server gives no Content-Length.
   */
  async size(request: DownloadRequest): Promise<number | undefined> {
    const url = this.checkUrl(request);
    const { res, reader } = await this.open(url, {}, request.sha256 !== undefined, request.signal, "HEAD");
    reader.stop();
    const n = Number(res.headers["content-length"]);
    return res.status >= 200 && res.status < 300 && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }

  /** Downloads and verifies one file (or finds it, verified again, in the cache). */
  async download(request: DownloadRequest): Promise<DownloadResult> {
    const url = this.checkUrl(request);
    const id = request.product ?? shown(url);
    const { expected, published, lockRow } = await this.expectedHash(request, url);
    if (isFixedUrlRequest(request)) return this.fixedUrl(request, url, id);
    if (expected !== undefined) {
      const hit = await this.cache.verified(expected);
      if (hit !== undefined) {
        this.emit({ type: "done", url, ...requester(request), sha256: expected, size: hit.size, fromCache: true });
        return {
          url,
          finalUrl: url,
          path: hit.path,
          sha256: expected,
          size: hit.size,
          fromCache: true,
          version: request.version,
          check: published !== undefined ? "published" : "lock",
          fileName: downloadFileName(undefined, url),
        };
      }
    }
    // One download per file at a time in this process: a second request for it waits for the first.
    const key = createHash("sha256")
      .update(`${url}\n${expected ?? ""}`)
      .digest("hex")
      .slice(0, 32);
    const flightKey = `${key}\n${id}\n${request.version ?? ""}`;
    const running = this.inflight.get(flightKey);
    if (running !== undefined) return running;
    const run = this.fetchAndVerify(request, url, key, id, published, lockRow?.sha256).finally(() =>
      this.inflight.delete(flightKey),
    );
    this.inflight.set(flightKey, run);
    return run;
  }

  /**
   * A fixed URL (`isFixedUrlRequest`): asked for conditionally against the cache's record of its last download; a
   * 304 gives the cached file (verified again), a 200 the new file, whose version is then read and checked against
   * the lock file like any download. One at a time per URL in this process.
   */
  private fixedUrl(request: DownloadRequest, url: string, id: string): Promise<DownloadResult> {
    const key = createHash("sha256").update(`${url}\nfixed`).digest("hex").slice(0, 32);
    const flightKey = `${key}\n${id}`;
    const running = this.inflight.get(flightKey);
    if (running !== undefined) return running;
    const run = (async (): Promise<DownloadResult> => {
      const record = await this.cache.urlRecord(url);
      const hit = record === undefined ? undefined : await this.cache.verified(record.sha256);
      const conditional: Record<string, string> = {};
      if (record !== undefined && hit !== undefined) {
        if (record.etag !== undefined) conditional["if-none-match"] = record.etag;
        else if (record.lastModified !== undefined) conditional["if-modified-since"] = record.lastModified;
      }
      return this.fetchAndVerify(request, url, key, id, undefined, undefined, {
        headers: conditional,
        cached: record !== undefined && hit !== undefined ? { record, path: hit.path } : undefined,
      });
    })().finally(() => this.inflight.delete(flightKey));
    this.inflight.set(flightKey, run);
    return run;
  }

  /** The lock file's check of a version of a product: the row's hash must be this one; a first one is recorded. */
  private async checkLock(
    url: string,
    id: string,
    version: string | undefined,
    sha256: string,
    locked: string | undefined,
    discard: () => Promise<void>,
  ): Promise<{ check: HashCheck; record: boolean }> {
    if (this.lock === undefined || version === undefined) return { check: "none", record: false };
    const expected = locked ?? (await this.lock.lookup(id, version))?.sha256;
    if (expected !== undefined && expected !== sha256) {
      await discard();
      throw lockMismatch(url, id, version, expected, sha256, this.lock.path);
    }
    return { check: expected === undefined ? "recorded" : "lock", record: expected === undefined };
  }

  private async recordLock(row: { id: string; version: string; url: string; size: number; sha256: string }) {
    await this.lock!.record(row).catch((e: unknown) => {
      throw isPublisherError(e)
        ? e
        : new PublisherError(
            "LockFileNotWritable",
            `Cannot write the download lock file ${this.lock!.path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
            { hint: "Make its folder writable for this user.", cause: e },
          );
    });
  }

  private async fetchAndVerify(
    request: DownloadRequest,
    url: string,
    key: string,
    id: string,
    published: string | undefined,
    locked: string | undefined,
    fixed?: { headers: Record<string, string>; cached: { record: UrlRecord; path: string } | undefined },
  ): Promise<DownloadResult> {
    let fetched: Fetched | NotModified;
    try {
      fetched = await this.fetch(request, url, key, published !== undefined, fixed?.headers ?? {});
    } catch (e) {
      throw diskError(e, this.options.cacheDir);
    }
    if (fetched.notModified === true) {
      await fetched.files.release();
      const { record, path } = fixed!.cached!;
      const version = record.version ?? (await request.versionFromFile?.(path));
      const { check, record: first } = await this.checkLock(url, id, version, record.sha256, undefined, () =>
        Promise.resolve(),
      );
      if (first) await this.recordLock({ id, version: version!, url, size: record.size, sha256: record.sha256 });
      this.emit({
        type: "done",
        url,
        ...requester(request),
        sha256: record.sha256,
        size: record.size,
        fromCache: true,
      });
      return {
        url,
        finalUrl: url,
        path,
        sha256: record.sha256,
        size: record.size,
        fromCache: true,
        notModified: true,
        version,
        check,
        fileName: downloadFileName(undefined, url),
      };
    }
    const { files, sha256, size } = fetched;
    let stored = false;
    try {
      if (published !== undefined && sha256 !== published) {
        await files.discard();
        throw hashMismatch(url, published, sha256, "published hash");
      }
      let version: string | undefined;
      try {
        version = request.version ?? (await request.versionFromFile?.(files.data));
      } catch (e) {
        await files.discard();
        throw e;
      }
      let check: HashCheck = published !== undefined ? "published" : "none";
      let record = false;
      if (published === undefined)
        ({ check, record } = await this.checkLock(url, id, version, sha256, locked, () => files.discard()));
      const path = await this.cache.store(files.data, sha256);
      stored = true;
      await files.discard();
      if (record) await this.recordLock({ id, version: version!, url, size, sha256 });
      if (fixed !== undefined)
        await this.cache.writeUrlRecord({
          url,
          sha256,
          size,
          ...(fetched.etag === undefined ? {} : { etag: fetched.etag }),
          ...(fetched.lastModified === undefined ? {} : { lastModified: fetched.lastModified }),
          ...(version === undefined ? {} : { version }),
          downloaded: new Date(this.clock()).toISOString(),
        });
      this.emit({ type: "done", url, ...requester(request), sha256, size, fromCache: false });
      return {
        url,
        finalUrl: fetched.finalUrl,
        path,
        sha256,
        size,
        fromCache: false,
        version,
        check,
        fileName: fetched.fileName,
      };
    } catch (e) {
      // Bytes that failed a check were discarded above; a file that could not be checked is not kept either.
      if (!stored) await files.discard();
      throw diskError(e, this.options.cacheDir);
    } finally {
      await files.release();
    }
  }

  private checkUrl(request: DownloadRequest): string {
    let u: URL;
    try {
      u = new URL(request.url);
    } catch {
      throw new PublisherError("InvalidDownloadUrl", `The download URL ${JSON.stringify(request.url)} is not a URL.`, {
        hint: "Give an absolute https:// URL.",
      });
    }
    if (request.sha256 !== undefined && !HEX64.test(request.sha256))
      throw badUrl(
        request.url,
        "InvalidSha256",
        `its SHA-256 ${JSON.stringify(request.sha256.slice(0, 80))} is not 64 hexadecimal digits`,
        "Give the file's SHA-256 as 64 hexadecimal digits, or none.",
      );
    if (u.username !== "" || u.password !== "")
      throw badUrl(
        request.url,
        "UrlWithCredentials",
        "it carries a user name or password, which would be sent in clear to every server on the way and kept in logs",
        "Remove the credentials from the URL; downloads of installers need none.",
      );
    if (u.protocol !== "https:" && u.protocol !== "http:")
      throw badUrl(request.url, "InvalidDownloadUrl", `${u.protocol} URLs are not supported`, "Give an https:// URL.");
    if (u.protocol === "http:" && request.sha256 === undefined)
      throw badUrl(
        request.url,
        "InsecureUrl",
        "it is plain http:// and no SHA-256 pins the file, so anyone on the way could replace it",
        "Use the https:// URL, or give the file's published SHA-256 in the catalog entry.",
      );
    this.options.secrets?.addFromUrl(u.href);
    return u.href;
  }

  /** GET with redirects followed by hand, each hop checked like the first URL. */
  private async open(
    url: string,
    headers: Record<string, string>,
    pinned: boolean,
    signal: AbortSignal | undefined,
    method: "GET" | "HEAD" = "GET",
  ): Promise<{ res: StreamedResponse; reader: BodyReader; finalUrl: string; request: HttpRequest }> {
    let current = url;
    const seen = new Set([current]);
    for (let hop = 0; ; hop++) {
      const request: HttpRequest = { method, url: current, headers, ...(signal ? { signal } : {}) };
      const res = await this.options.transport.stream(request);
      // Read at once: bytes that arrive before a failure are kept, and a failure is never an unhandled event.
      const reader = new BodyReader(res.body);
      this.options.logger?.info(`${method} ${shown(current)} ${res.status}`);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || location === undefined) return { res, reader, finalUrl: current, request };
      reader.stop();
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw redirectRefused(current, location, "RedirectRefused", "which is not a URL");
      }
      if (next.username !== "" || next.password !== "")
        throw redirectRefused(current, next.href, "RedirectRefused", "a URL with a user name or password");
      if (next.protocol !== "https:" && !(next.protocol === "http:" && pinned))
        throw redirectRefused(
          current,
          next.href,
          "InsecureRedirect",
          next.protocol === "http:"
            ? "plain http:// while no SHA-256 pins the file"
            : `a ${next.protocol} URL, which is not supported`,
        );
      if (seen.has(next.href))
        throw new PublisherError(
          "RedirectLoop",
          `The download of ${shown(url)} redirects in a loop (back to ${shown(next.href)} after ${hop + 1} redirects); nothing was downloaded.`,
          { hint: "The server is misconfigured; check the URL with the vendor." },
        );
      if (hop + 1 > this.o.maxRedirects)
        throw new PublisherError(
          "TooManyRedirects",
          `The download of ${shown(url)} was redirected more than ${this.o.maxRedirects} times; nothing was downloaded.`,
          { hint: "Check the URL with the vendor, or give the final URL." },
        );
      seen.add(next.href);
      this.options.secrets?.addFromUrl(next.href);
      current = next.href;
    }
  }

  private emit(event: DownloadEvent): void {
    this.options.onProgress?.(event);
  }

  private async backoff(
    request: DownloadRequest,
    url: string,
    attempt: number,
    reason: string,
    hint?: number,
  ): Promise<void> {
    const delayMs = hint ?? backoffDelay(attempt, { ...this.o, random: this.random });
    this.emit({ type: "retry", url, ...requester(request), attempt, reason, delayMs });
    this.options.logger?.warning(
      `GET ${shown(url)}: ${reason}; attempt ${attempt + 1} of ${this.o.maxAttempts} in ${delayMs} ms`,
    );
    await this.sleep(delayMs, request.signal);
  }

  /** Streams the file into a partial file (resuming one left by an earlier attempt or run) and hashes it. */
  private async fetch(
    request: DownloadRequest,
    url: string,
    key: string,
    pinned: boolean,
    conditional: Record<string, string>,
  ): Promise<Fetched | NotModified> {
    const files = await this.cache.partial(key);
    // The running SHA-256 (digest.ts: here, or on the hashing thread), kept across attempts while it matches the file.
    let digest: StreamDigest | undefined;
    let hashed = 0;
    const forget = (): void => {
      digest?.close();
      digest = undefined;
    };
    let last = "";
    let lastHint: string | undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        if (request.signal?.aborted) throw abortError(request.signal);
        if (attempt > this.o.maxAttempts) throw incomplete(url, this.o.maxAttempts, last, lastHint);
        lastHint = undefined;
        const have = await files.existing(url);
        let offset = have?.bytes ?? 0;
        if (offset === 0) await files.discard();
        const headers: Record<string, string> =
          have !== undefined ? { range: `bytes=${offset}-`, "if-range": have.meta.validator! } : conditional;

        let opened: Awaited<ReturnType<Downloader["open"]>>;
        try {
          opened = await this.open(url, headers, pinned, request.signal);
        } catch (e) {
          if (e instanceof NetworkError && (e.failure === "connect" || e.failure === "dropped")) {
            last = e.message;
            // A proxy's 5xx to the tunnel is retried; its advice (docs/troubleshooting.md#netproxy) is kept.
            if (PROXY_CODE.test(e.causeCode ?? "")) lastHint = e.hint;
            if (attempt < this.o.maxAttempts) await this.backoff(request, url, attempt, last);
            continue;
          }
          throw e;
        }
        const { res, reader, finalUrl, request: sent } = opened;
        let total: number | undefined;
        if (res.status === 304 && have === undefined && Object.keys(conditional).length > 0) {
          reader.stop();
          return { files, notModified: true };
        }
        if (res.status === 206 && offset > 0) {
          const range = parseContentRange(res.headers["content-range"]);
          if (range === undefined || range.start !== offset || (have?.meta.total ?? range.total) !== range.total) {
            reader.stop();
            await files.discard();
            forget();
            last = `a Content-Range (${res.headers["content-range"] ?? "none"}) that does not continue the ${offset} bytes received`;
            continue;
          }
          total = range.total;
        } else if (res.status === 200) {
          // The server ignored the Range, or If-Range found the file changed: start again from zero.
          offset = 0;
          total = contentLength(res.headers["content-length"]);
        } else if (res.status === 416 && offset > 0) {
          reader.stop();
          await files.discard();
          forget();
          last = "HTTP 416 to a resume";
          continue;
        } else {
          reader.stop();
          if (RETRY_STATUS.has(res.status) && attempt < this.o.maxAttempts) {
            last = `HTTP ${res.status}`;
            await this.backoff(request, url, attempt, last, parseRetryAfterMs(res.headers, this.clock()));
            continue;
          }
          await files.discard();
          throw httpError(url, res.status, attempt);
        }
        if (total !== undefined && total > this.o.maxBytes) {
          reader.stop();
          await files.discard();
          throw tooLarge(url, total, this.o.maxBytes);
        }
        const acceptsRanges = /\bbytes\b/i.test(res.headers["accept-ranges"] ?? "");
        const validator = acceptsRanges ? validatorOf(res.headers) : undefined;
        await files.writeMeta({ url, ...(validator ? { validator } : {}), ...(total !== undefined ? { total } : {}) });
        if (offset === 0) {
          forget();
          digest = new StreamDigest(this.options.hashThread === true);
          hashed = 0;
        } else if (digest === undefined || hashed !== offset) {
          forget();
          digest = new StreamDigest(this.options.hashThread === true);
          hashed = await digest.hashFile(files.data, offset);
        }
        this.emit({
          type: "start",
          url,
          ...requester(request),
          ...(total !== undefined ? { total } : {}),
          resumedFrom: offset,
          attempt,
        });
        const handle = await open(files.data, offset === 0 ? "w" : "r+", 0o644);
        let received: Awaited<ReturnType<Downloader["receive"]>>;
        try {
          received = await this.receive(reader, handle, offset, digest, total, url, request, sent);
        } catch (e) {
          // A refusal (too large) or a failed write: the hash may have seen bytes the file has not.
          forget();
          if (isPublisherError(e) && e.code === "DownloadTooLarge") await files.discard();
          throw e;
        } finally {
          await handle.close();
        }
        // Every byte hashed was written, also when the connection failed: a resume goes on from here.
        const reached = received.reached;
        hashed = reached;
        if (received.failure !== undefined) {
          if (received.failure.failure !== "dropped") throw received.failure;
          last = received.failure.message;
          if (validator === undefined) await files.discard();
          if (attempt < this.o.maxAttempts) await this.backoff(request, url, attempt, last);
          continue;
        }
        if (total !== undefined && reached < total) {
          last = `the connection closed after ${reached} of ${total} bytes`;
          if (validator === undefined) await files.discard();
          if (attempt < this.o.maxAttempts) await this.backoff(request, url, attempt, last);
          continue;
        }
        return {
          files,
          sha256: await digest.digest(),
          size: reached,
          finalUrl,
          fileName: downloadFileName(res.headers["content-disposition"], finalUrl),
          ...(res.headers.etag === undefined ? {} : { etag: res.headers.etag.trim() }),
          ...(res.headers["last-modified"] === undefined ? {} : { lastModified: res.headers["last-modified"].trim() }),
        };
      }
    } catch (e) {
      forget();
      await files.release();
      throw e;
    }
  }

  /**
   * Writes the body at `offset`, hashing it (digest.ts, in 1 MiB stages). Returns the file's length after
   * it, and the connection's failure when the body broke off (every byte received before it is written and hashed);
   * throws refusals and write errors.
   */
  private async receive(
    reader: BodyReader,
    handle: FileHandle,
    offset: number,
    digest: StreamDigest,
    total: number | undefined,
    url: string,
    request: DownloadRequest,
    sent: HttpRequest,
  ): Promise<{ reached: number; failure?: NetworkError }> {
    const meter = new RateMeter(this.clock);
    let lastSample = Number.NEGATIVE_INFINITY;
    let lastEvent = Number.NEGATIVE_INFINITY;
    let reached = offset;
    // Writes in order at their positions; the body is paused while every stage waits for the thread.
    digest.target(handle.fd, offset, {
      pause: () => reader.pause(),
      resume: () => reader.resume(),
      stop: () => reader.stop(),
    });
    const progress = (force: boolean): void => {
      const now = this.clock();
      if (!force && now - lastSample < PROGRESS_SAMPLE_MS) return;
      lastSample = now;
      meter.add(reached);
      if (!force && now - lastEvent < this.o.progressIntervalMs) return;
      lastEvent = now;
      const eta = meter.etaSeconds(total);
      this.emit({
        type: "progress",
        url,
        ...requester(request),
        bytes: reached,
        ...(total !== undefined ? { total } : {}),
        rate: meter.rate(),
        ...(eta !== undefined ? { etaSeconds: eta } : {}),
      });
    };
    let failure: unknown;
    try {
      await reader.pipeTo((chunk) => {
        const next = reached + chunk.length;
        if (next > this.o.maxBytes) throw tooLarge(url, undefined, this.o.maxBytes);
        if (total !== undefined && next > total)
          throw new NetworkError("dropped", `${shown(url)} sent more bytes than it announced.`, {});
        reached = next;
        digest.push(chunk);
        // copied: the chunk is garbage now (a fresh 16 KiB buffer per TLS record, collected early)
        noteGarbage(chunk.length);
        progress(false);
      });
    } catch (e) {
      failure = e;
    }
    // What was received is written (also after a failure), so a resume continues from the file's end.
    await digest.flush();
    if (failure === undefined) {
      progress(true);
      return { reached };
    }
    // Our own refusals pass through; the rest is the connection's.
    if (failure instanceof NetworkError) return { reached, failure };
    if (isPublisherError(failure)) throw failure;
    const mapped = toNetworkError(failure, sent);
    if (mapped instanceof NetworkError) return { reached, failure: mapped };
    throw mapped;
  }
}
