import { createDecipheriv, createHash, createHmac, timingSafeEqual, type Decipher, type Hash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rename, rm, rmdir, stat, utimes } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Transform } from "node:stream";
import { Worker } from "node:worker_threads";
import { pipeline } from "node:stream/promises";
import { InternalError, PublisherError } from "../core/errors.js";
import { openDecryptingSource } from "./decrypting-source.js";
import { hasKind, type CodeOfKind } from "../core/error-codes.js";
import { crc32 } from "./crc32.js";
import type { DetectionInfo } from "./detection-xml.js";
import yauzl from "yauzl";
import { formatLimit } from "../platform/fs.js";
import { mapFsError } from "./fs-errors.js";
import { noteGarbage } from "../platform/gc.js";
import type { MacWorkerData, MacWorkerReply } from "./mac-worker.js";
import { windowsPathProblem, windowsUpper } from "./names.js";
import { openPackage, type IntunewinPackage } from "./read.js";
import {
  locateData,
  openItem,
  openZipArchive,
  openZipSource,
  readItems,
  type ZipArchive,
  type ZipFail,
  type ZipItem,
} from "./zip-read.js";

export interface UnpackOptions {
  packagePath: string;
  outDir: string;
  /** Write the decrypted inner zip instead of extracting it. */
  keepZip?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Most bytes the extracted files may take; default {@link defaultMaxExtractedSize}. */
  maxExtractedSize?: number;
  /** Most entries the inner zip may hold; default {@link DEFAULT_MAX_ENTRIES}. */
  maxEntries?: number;
}

export interface UnpackResult {
  outDir: string;
  detection: DetectionInfo;
  /** Set with keepZip: the decrypted inner zip. */
  zipPath?: string;
  files: number;
  folders: number;
}

function integrity(code: CodeOfKind<"integrity">, message: string): PublisherError {
  return new PublisherError(code, message, {
    hint: "The package was altered or damaged after it was made: get or make a fresh copy.",
  });
}

/** HMAC-SHA256(MacKey, IV‖ciphertext) and the payload's first 48 bytes (stored MAC‖IV). */
async function computeMac(
  pkg: IntunewinPackage,
  macKey: Buffer,
  signal?: AbortSignal,
): Promise<{ mac: Buffer; head: Buffer }> {
  const stored = pkg.storedPayload;
  if (stored && !import.meta.url.endsWith(".ts")) {
    // A stored payload (every real package) is MACed on a worker thread while this thread decrypts it.
    const data: MacWorkerData & { macWorker: true } = { ...stored, size: pkg.payloadSize, macKey, macWorker: true };
    const inputType = process.execArgv.some((a) => a.startsWith("--input-type"));
    const worker = new Worker(new URL("./mac-worker.js", import.meta.url), {
      workerData: data,
      ...(inputType ? { execArgv: process.execArgv.filter((a) => !a.startsWith("--input-type")) } : {}),
    });
    const stop = (): void => void worker.terminate();
    signal?.addEventListener("abort", stop, { once: true });
    try {
      const reply = await new Promise<MacWorkerReply>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
        worker.once("exit", () => reject(signal?.reason ?? new Error("The MAC worker stopped unexpectedly.")));
      });
      if (reply.type === "done") return { mac: Buffer.from(reply.mac), head: Buffer.from(reply.head) };
      if (reply.code === "ETRUNCATED")
        throw integrity("PayloadTruncated", `The payload of "${pkg.path}" is cut short.`);
      throw Object.assign(new Error(reply.message), { code: reply.code, errno: reply.errno, syscall: reply.syscall });
    } finally {
      signal?.removeEventListener("abort", stop);
      await worker.terminate();
    }
  }
  const hmac = createHmac("sha256", macKey);
  const header: Buffer[] = [];
  let position = 0;
  for await (const chunk of await pkg.openPayload()) {
    signal?.throwIfAborted();
    const b = chunk as Buffer;
    if (position < 48) header.push(b.subarray(0, 48 - position));
    if (position + b.length > 32) hmac.update(b.subarray(Math.max(0, 32 - position)));
    position += b.length;
  }
  return { mac: hmac.digest(), head: Buffer.concat(header) };
}

function checkPayloadLength(pkg: IntunewinPackage): void {
  if (pkg.payloadSize < 64 || (pkg.payloadSize - 48) % 16 !== 0) {
    throw integrity(
      "PayloadTruncated",
      `The encrypted payload of "${pkg.path}" has an impossible length (${pkg.payloadSize} bytes).`,
    );
  }
}

/** HMAC-SHA256(MacKey, IV‖ciphertext) must match the payload's first 32 bytes and Detection.xml's Mac. */
export async function verifyMac(pkg: IntunewinPackage, signal?: AbortSignal): Promise<void> {
  const enc = pkg.detection.EncryptionInfo;
  checkPayloadLength(pkg);
  const { mac, head } = await computeMac(pkg, Buffer.from(enc.MacKey, "base64"), signal);
  checkMac(pkg, mac, head);
}

/** The computed MAC must match the payload's first 32 bytes and Detection.xml's Mac; the IV, the payload's next 16. */
function checkMac(pkg: IntunewinPackage, computed: Buffer, head: Buffer): void {
  const enc = pkg.detection.EncryptionInfo;
  const stored = head.subarray(0, 32);
  const declared = Buffer.from(enc.Mac, "base64");
  if (!timingSafeEqual(computed, stored) || !timingSafeEqual(computed, declared)) {
    throw integrity("MacMismatch", `The MAC of "${pkg.path}" does not match its content: it was altered or damaged.`);
  }
  if (!head.subarray(32, 48).equals(Buffer.from(enc.InitializationVector, "base64"))) {
    throw integrity("IvMismatch", `The IV inside "${pkg.path}" differs from its Detection.xml.`);
  }
}

/** Decrypts the payload to `zipPath` (or only checks it, without) and checks the plaintext's length and SHA-256 (FileDigest). */
export async function decryptPayload(
  pkg: IntunewinPackage,
  zipPath: string | undefined,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<void> {
  const enc = pkg.detection.EncryptionInfo;
  const decipher = createDecipheriv(
    "aes-256-cbc",
    Buffer.from(enc.EncryptionKey, "base64"),
    Buffer.from(enc.InitializationVector, "base64"),
  );
  const digest = createHash("sha256");
  let plaintextSize = 0;
  const total = pkg.payloadSize;
  const decryptFailed = (): PublisherError => badPadding(pkg);
  const reader = await pkg.openPayloadReader();
  if (reader) {
    // A stored payload: positional reads into two reused buffers (the next read runs while this one is
    // decrypted), a few writes in flight; no stream machinery and no fresh buffer per read.
    const fh = zipPath === undefined ? undefined : await open(zipPath, "wx", 0o600);
    const writes: Promise<unknown>[] = [];
    try {
      const buffers = [Buffer.allocUnsafeSlow(DECRYPT_PIECE), Buffer.allocUnsafeSlow(DECRYPT_PIECE)];
      const readAt = (b: number, at: number): Promise<number> =>
        reader.read(buffers[b]!, Math.min(DECRYPT_PIECE, total - at), at);
      const emit = async (out: Buffer): Promise<void> => {
        digest.update(out);
        if (!fh) {
          plaintextSize += out.length;
          return noteGarbage(out.length); // checked only: dead at once
        }
        const p = fh.write(out, 0, out.length, plaintextSize);
        p.catch(() => {}); // awaited below
        writes.push(p);
        plaintextSize += out.length;
        if (writes.length > WRITES_IN_FLIGHT) {
          await writes.shift();
          noteGarbage(out.length); // one piece written: as many bytes of decipher output dead
        }
      };
      let at = 48;
      let next = readAt(0, at);
      for (let b = 0; at < total; b ^= 1) {
        options.signal?.throwIfAborted();
        const got = await next;
        if (got !== Math.min(DECRYPT_PIECE, total - at)) {
          throw integrity("PayloadTruncated", `The payload of "${pkg.path}" is cut short.`);
        }
        at += got;
        if (at < total) next = readAt(b ^ 1, at);
        options.onProgress?.(at, total);
        await emit(decipher.update(buffers[b]!.subarray(0, got)));
      }
      let last: Buffer;
      try {
        last = decipher.final();
      } catch {
        throw decryptFailed();
      }
      await emit(last);
      await Promise.all(writes);
    } finally {
      await Promise.allSettled(writes);
      await fh?.close();
      await reader.close();
    }
  } else {
    if (zipPath === undefined) throw new InternalError("a deflated payload is decrypted to a file");
    await decryptStream(pkg, zipPath, decipher, digest, options, decryptFailed, (n) => (plaintextSize += n));
  }
  checkPlaintext(pkg, plaintextSize, digest.digest());
}

function badPadding(pkg: IntunewinPackage): PublisherError {
  return integrity(
    "DecryptFailed",
    `"${pkg.path}" does not decrypt with its key (bad padding): it was altered or damaged.`,
  );
}

/** The plaintext's length must equal UnencryptedContentSize and its SHA-256 FileDigest. */
function checkPlaintext(pkg: IntunewinPackage, size: number, digest: Buffer): void {
  if (size !== pkg.detection.UnencryptedContentSize) {
    throw integrity(
      "SizeMismatch",
      `"${pkg.path}" decrypts to ${size} bytes, but its Detection.xml says ${pkg.detection.UnencryptedContentSize}.`,
    );
  }
  if (!timingSafeEqual(digest, Buffer.from(pkg.detection.EncryptionInfo.FileDigest, "base64"))) {
    throw integrity("DigestMismatch", `The SHA-256 of the content of "${pkg.path}" does not match its FileDigest.`);
  }
}

/** Decrypted pieces, and plaintext writes waiting for the disk at most. */
const DECRYPT_PIECE = 1024 * 1024;
const WRITES_IN_FLIGHT = 4;

/** A deflated payload (no package writer makes one): through its inflating stream. */
async function decryptStream(
  pkg: IntunewinPackage,
  zipPath: string,
  decipher: Decipher,
  digest: Hash,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  decryptFailed: () => PublisherError,
  counted: (n: number) => void,
): Promise<void> {
  let position = 0;
  const total = pkg.payloadSize;
  const transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const start = Math.max(0, 48 - position);
      position += chunk.length;
      options.onProgress?.(position, total);
      if (start >= chunk.length) return done();
      try {
        const out = decipher.update(chunk.subarray(start));
        digest.update(out);
        counted(out.length);
        done(null, out);
      } catch (e) {
        done(e as Error);
      }
    },
    flush(done) {
      try {
        const out = decipher.final();
        digest.update(out);
        counted(out.length);
        done(null, out);
      } catch {
        done(decryptFailed());
      }
    },
  });
  await pipeline(await pkg.openPayload(), transform, createWriteStream(zipPath, { flags: "wx", mode: 0o600 }), {
    signal: options.signal ?? new AbortController().signal,
  });
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    if (!(await stat(dir)).isDirectory()) return false;
    return (await readdir(dir)).length === 0;
  } catch {
    return true;
  }
}

/** Entries an unpack extracts unless --max-entries says otherwise (a large installer has a few thousand). */
export const DEFAULT_MAX_ENTRIES = 100_000;
/** By default the extracted files may take this many times the package's size… */
export const EXTRACTED_SIZE_RATIO = 100;
/** …and at least this much. */
export const MIN_EXTRACTED_SIZE_LIMIT = 1024 ** 3;

/** The default for --max-extracted-size: 100 times the package's size, at least 1 GiB. */
export function defaultMaxExtractedSize(packageSize: number): number {
  return Math.max(EXTRACTED_SIZE_RATIO * packageSize, MIN_EXTRACTED_SIZE_LIMIT);
}

function unsafe(pkgPath: string, why: string): PublisherError {
  return new PublisherError(
    "UnsafeEntry",
    `"${pkgPath}" holds an entry that would be written outside the output folder (${why}); nothing was extracted.`,
    {
      hint: "Do not trust this package: it was not made by the packaging tool.",
    },
  );
}

const UNTRUSTED = "Do not trust this package: neither this tool nor Microsoft's makes such a package.";

/** A refusal of the inner zip before anything is extracted (input), or a failed check of its data (integrity). */
function contentFail(pkgPath: string): ZipFail {
  return (code, why) =>
    hasKind(code, "integrity")
      ? integrity(code, `The content of "${pkgPath}" is damaged: ${why}.`)
      : new PublisherError(code, `"${pkgPath}" cannot be unpacked: ${why}; nothing was extracted.`, {
          hint: UNTRUSTED,
        });
}

function tooLarge(pkgPath: string, what: string, limit: number, defaulted: boolean): PublisherError {
  const why = defaulted
    ? `${EXTRACTED_SIZE_RATIO} times the package's size, at least ${formatLimit(MIN_EXTRACTED_SIZE_LIMIT)}`
    : "--max-extracted-size";
  return new PublisherError(
    "ExtractedTooLarge",
    `"${pkgPath}" ${what}, over the limit of ${formatLimit(limit)} (${why}); nothing was extracted.`,
    {
      hint: "A package that expands this much is usually a zip bomb. If you trust it, raise the limit: --max-extracted-size 50GiB.",
    },
  );
}

export interface ExtractLimits {
  maxExtractedSize: number;
  /** Whether maxExtractedSize is the default (for the message). */
  defaultSize: boolean;
  maxEntries: number;
}

interface Planned {
  item: ZipItem;
  segments: string[];
  isDir: boolean;
}

/**
 * Reads the inner zip's directory and refuses, before anything is written: more entries than allowed, names that
 * escape the folder or that Windows cannot hold, symbolic links, unknown compression, zip encryption, a total size
 * over the limit, two entries of one name (Windows ignores case), a file where a folder is needed, and entries
 * whose bytes overlap.
 */
async function planExtraction(archive: ZipArchive, zip: yauzl.ZipFile, pkgPath: string, limits: ExtractLimits) {
  const fail = contentFail(pkgPath);
  const planned: Planned[] = [];
  let total = 0;
  const items = await readItems(
    zip,
    archive,
    limits.maxEntries,
    () =>
      new PublisherError(
        "TooManyEntries",
        `"${pkgPath}" holds ${archive.entryCount} entries or more, over the limit of ${limits.maxEntries}; nothing was extracted.`,
        { hint: "If you trust the package, raise the limit: --max-entries N." },
      ),
    (item) => {
      const name = item.name;
      const segments = name.split("/").filter((s) => s !== "");
      if (name.includes("\0") || segments.length === 0 || segments.some((s) => s === "." || s === ".."))
        throw unsafe(pkgPath, JSON.stringify(name));
      const problem = windowsPathProblem(segments);
      if (problem) throw fail("UnsafeName", `the entry "${name}" has a name Windows cannot hold (${problem})`);
      if (item.symlink) throw fail("SymlinkEntry", `the entry "${name}" is a symbolic link`);
      if (item.flags & 1) throw fail("EncryptedEntry", `the entry "${name}" is encrypted with a zip password`);
      if (item.method !== 0 && item.method !== 8) {
        throw fail(
          "UnsupportedCompression",
          `the entry "${name}" uses compression method ${item.method}; only stored (0) and deflate (8) are read`,
        );
      }
      const isDir = name.endsWith("/");
      if (!isDir) total += item.uncompressedSize;
      if (total > limits.maxExtractedSize) {
        throw tooLarge(
          pkgPath,
          `would extract ${formatLimit(total)} or more`,
          limits.maxExtractedSize,
          limits.defaultSize,
        );
      }
      planned.push({ item, segments, isDir });
    },
  ).catch((e: unknown) => {
    if (e instanceof PublisherError) throw e;
    const msg = (e as Error).message;
    if (/absolute path|invalid relative path|invalid characters/.test(msg)) throw unsafe(pkgPath, msg);
    throw fail("InnerZipCorrupt", `its zip directory is damaged (${msg})`);
  });

  // Names as Windows compares them, segments joined by NUL (below every other character): sorted, a file is
  // followed at once by its duplicates, then by any entry that needs it to be a folder.
  const keyed = planned.map((p) => ({ p, key: windowsUpper(p.segments.join("\0")) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 1; i < keyed.length; i++) {
    const a = keyed[i - 1]!;
    const b = keyed[i]!;
    const an = a.p.item.name;
    const bn = b.p.item.name;
    if (a.key === b.key) {
      if (a.p.isDir && b.p.isDir) continue; // a folder listed twice does no harm
      if (a.p.isDir !== b.p.isDir) {
        throw fail("EntryClash", `"${an}" and "${bn}" name one path as both a file and a folder`);
      }
      throw fail(
        "DuplicateEntry",
        an === bn
          ? `it holds two entries named "${an}"`
          : `it holds "${an}" and "${bn}", one name on Windows, which ignores case`,
      );
    }
    if (!a.p.isDir && b.key.startsWith(a.key + "\0")) {
      throw fail("EntryClash", `"${an}" is a file, but "${bn}" needs a folder of that name`);
    }
  }
  await locateData(archive, items);
  return { planned, total };
}

/**
 * Extracts a zip into `dest` after {@link planExtraction} accepted all of it (every entry checked before anything is
 * written). Also used for zips downloaded by the catalog (src/catalog/download/nested.ts).
 */
export async function extractZip(
  zipPath: string,
  dest: string,
  pkgPath: string,
  limits: ExtractLimits,
  signal?: AbortSignal,
): Promise<{ files: number; folders: number }> {
  const { archive, zip } = await openZipArchive({ path: zipPath, what: "decrypted content" }, innerFail(pkgPath));
  return await extractArchive(archive, zip, dest, pkgPath, limits, signal);
}

/** The refusals of an inner zip: its outer-zip codes ("Package…") become InnerZipCorrupt. */
function innerFail(pkgPath: string): ZipFail {
  const fail = contentFail(pkgPath);
  return (code, why) => fail(code.startsWith("Package") ? "InnerZipCorrupt" : code, why);
}

/** {@link extractZip} of an open archive (a file, or a payload decrypted as it is read); closes it. */
async function extractArchive(
  archive: ZipArchive,
  zip: yauzl.ZipFile,
  dest: string,
  pkgPath: string,
  limits: ExtractLimits,
  signal?: AbortSignal,
): Promise<{ files: number; folders: number }> {
  try {
    const { planned } = await planExtraction(archive, zip, pkgPath, limits);
    let files = 0;
    let folders = 0;
    let written = 0;
    for (const { item, segments, isDir } of planned) {
      signal?.throwIfAborted();
      const target = join(dest, ...segments);
      try {
        if (isDir) {
          await mkdir(target, { recursive: true });
          folders++;
          continue;
        }
        await mkdir(dirname(target), { recursive: true });
        let crc = 0;
        const check = new Transform({
          transform(chunk: Buffer, _e, done) {
            crc = crc32(chunk, crc);
            written += chunk.length;
            noteGarbage(chunk.length);
            if (written > limits.maxExtractedSize) {
              return done(
                tooLarge(
                  pkgPath,
                  "extracts to more than its records declare",
                  limits.maxExtractedSize,
                  limits.defaultSize,
                ),
              );
            }
            done(null, chunk);
          },
        });
        await pipeline(openItem(archive, item), check, createWriteStream(target, { flags: "wx" }));
        if (crc >>> 0 !== item.crc32 >>> 0) {
          throw integrity("CrcMismatch", `"${item.name}" in "${pkgPath}" fails its CRC-32 check.`);
        }
        const mtime = yauzl.dosDateTimeToDate(item.dosDate, item.dosTime);
        await utimes(target, mtime, mtime);
        files++;
      } catch (e) {
        throw writeError(e, item.name, pkgPath);
      }
    }
    return { files, folders };
  } finally {
    await archive.close();
  }
}

/**
 * Extracts a stored payload's inner zip straight from the package, decrypted where each piece is read (after its
 * MAC and digest were checked): no decrypted zip is written and read back.
 */
async function extractPayload(
  pkg: IntunewinPackage,
  dest: string,
  pkgPath: string,
  limits: ExtractLimits,
  signal?: AbortSignal,
): Promise<{ files: number; folders: number }> {
  const reader = await pkg.openPayloadReader();
  if (!reader) throw new InternalError("a stored payload without a positional reader");
  const source = await openDecryptingSource({
    path: pkgPath,
    reader,
    payloadSize: pkg.payloadSize,
    key: Buffer.from(pkg.detection.EncryptionInfo.EncryptionKey, "base64"),
    truncated: () => integrity("PayloadTruncated", `The payload of "${pkg.path}" is cut short.`),
    badPadding: () => badPadding(pkg),
  }).catch(async (e: unknown) => {
    await reader.close();
    throw e;
  });
  const { archive, zip } = await openZipSource(source, innerFail(pkgPath));
  return await extractArchive(archive, zip, dest, pkgPath, limits, signal);
}

/** A file-system error while extracting one entry, worded for that entry; others pass through. */
function writeError(e: unknown, name: string, pkgPath: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENAMETOOLONG") {
    return new PublisherError(
      "NameTooLong",
      `"${name}" in "${pkgPath}" is too long a path for this file system (ENAMETOOLONG); nothing was extracted.`,
      { hint: "Unpack into a folder with a shorter path, or on a file system that allows longer names." },
    );
  }
  if (code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR") {
    return new PublisherError(
      "EntryClash",
      `"${name}" in "${pkgPath}" clashes with another entry (${code}); nothing was extracted.`,
      { hint: UNTRUSTED },
    );
  }
  return e;
}

/**
 * Verifies the MAC (on a worker, while this thread decrypts into the staging folder) and FileDigest, then
 * extracts (or keeps the zip). Everything happens in a staging folder beside the output, renamed into place only on success.
 */
export async function unpackPackage(options: UnpackOptions): Promise<UnpackResult> {
  try {
    return await unpackUnmapped(options);
  } catch (e) {
    throw mapFsError(e);
  }
}

async function unpackUnmapped(options: UnpackOptions): Promise<UnpackResult> {
  const outDir = resolve(options.outDir);
  const pkg = await openPackage(options.packagePath);
  try {
    if (!options.keepZip && !(await isEmptyOrMissing(outDir))) {
      throw new PublisherError("OutputNotEmpty", `The output folder "${options.outDir}" is not empty.`, {
        hint: "Choose a new or empty folder for --out: unpack never mixes a package's files with others.",
      });
    }
    const limits: ExtractLimits = {
      maxExtractedSize: options.maxExtractedSize ?? defaultMaxExtractedSize(pkg.fileSize),
      defaultSize: options.maxExtractedSize === undefined,
      maxEntries: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    };
    // Only a deflated payload can claim more than the package's size.
    if (pkg.payloadSize > limits.maxExtractedSize) {
      throw tooLarge(
        options.packagePath,
        `has a payload that inflates to ${formatLimit(pkg.payloadSize)}`,
        limits.maxExtractedSize,
        limits.defaultSize,
      );
    }
    checkPayloadLength(pkg);
    await mkdir(dirname(outDir), { recursive: true });
    const staging = await mkdtemp(join(dirname(outDir), `.${basename(outDir)}.unpack-`));
    try {
      // A stored payload (every real package) is decrypted twice, without writing it: once here to check it,
      // once where each piece is read during extraction (CBC allows that); both cost less than writing the
      // decrypted zip and reading it back.
      const direct = !options.keepZip && pkg.storedPayload !== undefined;
      const zipPath = join(staging, "content.zip");
      // The MAC is computed (on a worker) while the payload is decrypted into the private staging folder; nothing
      // is extracted or kept unless it matches, and a failed MAC is reported before any decryption error.
      const stop = new AbortController();
      const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
      const mac = verifyMac(pkg, signal);
      const decrypted = decryptPayload(pkg, direct ? undefined : zipPath, { ...options, signal });
      const [macResult, decryptResult] = await Promise.allSettled([
        mac.catch((e: unknown) => {
          stop.abort(); // no need to finish decrypting
          throw e;
        }),
        decrypted,
      ]);
      if (macResult.status === "rejected") throw macResult.reason;
      if (decryptResult.status === "rejected") throw decryptResult.reason;
      if (options.keepZip) {
        await mkdir(outDir, { recursive: true });
        const finalZip = join(outDir, basename(options.packagePath).replace(/\.intunewin$/i, "") + ".zip");
        await rename(zipPath, finalZip);
        return { outDir, detection: pkg.detection, zipPath: finalZip, files: 0, folders: 0 };
      }
      const content = join(staging, "content");
      await mkdir(content);
      const counts = direct
        ? await extractPayload(pkg, content, options.packagePath, limits, options.signal)
        : await extractZip(zipPath, content, options.packagePath, limits, options.signal);
      if (!direct) await rm(zipPath);
      await rmdir(outDir).catch(() => {}); // an empty existing folder is replaced
      await rename(content, outDir);
      return { outDir, detection: pkg.detection, ...counts };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  } finally {
    pkg.close();
  }
}
