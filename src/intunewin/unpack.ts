import { createDecipheriv, createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, utimes } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, isAbsolute } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PublisherError } from "../core/errors.js";
import { crc32 } from "./crc32.js";
import type { DetectionInfo } from "./detection-xml.js";
import { openEntry, openPackage, openZip, readEntries, type IntunewinPackage } from "./read.js";

export interface UnpackOptions {
  packagePath: string;
  outDir: string;
  /** Write the decrypted inner zip instead of extracting it. */
  keepZip?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface UnpackResult {
  outDir: string;
  detection: DetectionInfo;
  /** Set with keepZip: the decrypted inner zip. */
  zipPath?: string;
  files: number;
  folders: number;
}

function integrity(code: string, message: string): PublisherError {
  return new PublisherError("integrity", code, message, {
    hint: "The package was altered or damaged after it was made: get or make a fresh copy.",
  });
}

/** Pass 1: HMAC-SHA256(MacKey, IV‖ciphertext) must match the payload's first 32 bytes and Detection.xml's Mac. */
export async function verifyMac(pkg: IntunewinPackage, signal?: AbortSignal): Promise<void> {
  const enc = pkg.detection.EncryptionInfo;
  if (pkg.payloadSize < 64 || (pkg.payloadSize - 48) % 16 !== 0) {
    throw integrity(
      "PayloadTruncated",
      `The encrypted payload of "${pkg.path}" has an impossible length (${pkg.payloadSize} bytes).`,
    );
  }
  const hmac = createHmac("sha256", Buffer.from(enc.MacKey, "base64"));
  const header: Buffer[] = [];
  let position = 0;
  for await (const chunk of await pkg.openPayload()) {
    signal?.throwIfAborted();
    const b = chunk as Buffer;
    if (position < 48) header.push(b.subarray(0, 48 - position));
    if (position + b.length > 32) hmac.update(b.subarray(Math.max(0, 32 - position)));
    position += b.length;
  }
  const head = Buffer.concat(header);
  const computed = hmac.digest();
  const stored = head.subarray(0, 32);
  const declared = Buffer.from(enc.Mac, "base64");
  if (!timingSafeEqual(computed, stored) || !timingSafeEqual(computed, declared)) {
    throw integrity("MacMismatch", `The MAC of "${pkg.path}" does not match its content: it was altered or damaged.`);
  }
  if (!head.subarray(32, 48).equals(Buffer.from(enc.InitializationVector, "base64"))) {
    throw integrity("IvMismatch", `The IV inside "${pkg.path}" differs from its Detection.xml.`);
  }
}

/** Pass 2: decrypts the payload to `zipPath` and checks the plaintext's length and SHA-256 (FileDigest). */
export async function decryptPayload(
  pkg: IntunewinPackage,
  zipPath: string,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<void> {
  const enc = pkg.detection.EncryptionInfo;
  const decipher = createDecipheriv(
    "aes-256-cbc",
    Buffer.from(enc.EncryptionKey, "base64"),
    Buffer.from(enc.InitializationVector, "base64"),
  );
  const digest = createHash("sha256");
  let position = 0;
  let plaintextSize = 0;
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
        plaintextSize += out.length;
        done(null, out);
      } catch (e) {
        done(e as Error);
      }
    },
    flush(done) {
      try {
        const out = decipher.final();
        digest.update(out);
        plaintextSize += out.length;
        done(null, out);
      } catch {
        done(
          integrity(
            "DecryptFailed",
            `"${pkg.path}" does not decrypt with its key (bad padding): it was altered or damaged.`,
          ),
        );
      }
    },
  });
  await pipeline(await pkg.openPayload(), transform, createWriteStream(zipPath, { flags: "wx", mode: 0o600 }), {
    signal: options.signal ?? new AbortController().signal,
  });
  if (plaintextSize !== pkg.detection.UnencryptedContentSize) {
    throw integrity(
      "SizeMismatch",
      `"${pkg.path}" decrypts to ${plaintextSize} bytes, but its Detection.xml says ${pkg.detection.UnencryptedContentSize}.`,
    );
  }
  if (!timingSafeEqual(digest.digest(), Buffer.from(enc.FileDigest, "base64"))) {
    throw integrity("DigestMismatch", `The SHA-256 of the content of "${pkg.path}" does not match its FileDigest.`);
  }
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    if (!(await stat(dir)).isDirectory()) return false;
    return (await readdir(dir)).length === 0;
  } catch {
    return true;
  }
}

function unsafe(pkgPath: string, why: string): PublisherError {
  return new PublisherError(
    "input",
    "UnsafeEntry",
    `"${pkgPath}" holds an entry that would be written outside the output folder (${why}); nothing was extracted.`,
    {
      hint: "Do not trust this package: it was not made by the packaging tool.",
    },
  );
}

/** Extracts the inner zip into `dest`, accepting `\` and `/` separators and refusing any entry that escapes it. */
async function extractZip(
  zipPath: string,
  dest: string,
  pkgPath: string,
  signal?: AbortSignal,
): Promise<{ files: number; folders: number }> {
  const zip = await openZip(zipPath, (why) =>
    integrity("InnerZipCorrupt", `The decrypted content of "${pkgPath}" is not a valid zip: ${why}.`),
  );
  try {
    let entries;
    try {
      entries = await readEntries(zip);
    } catch (e) {
      const msg = (e as Error).message;
      if (/absolute path|invalid relative path|invalid characters/.test(msg)) throw unsafe(pkgPath, msg);
      throw integrity("InnerZipCorrupt", `The decrypted content of "${pkgPath}" is not a valid zip: ${msg}.`);
    }
    // Check every name before writing anything.
    const targets = entries.map((e) => {
      const name = e.fileName;
      const target = resolve(dest, ...name.split("/").filter((s) => s !== ""));
      const rel = relative(dest, target);
      if (name.includes("\0") || rel === "" || rel.startsWith("..") || isAbsolute(rel)) throw unsafe(pkgPath, name);
      return { entry: e, target, isDir: name.endsWith("/") };
    });
    let files = 0;
    let folders = 0;
    for (const { entry, target, isDir } of targets) {
      signal?.throwIfAborted();
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
          done(null, chunk);
        },
      });
      try {
        await pipeline(await openEntry(zip, entry), check, createWriteStream(target, { flags: "wx" }));
      } catch (e) {
        throw integrity(
          "InnerZipCorrupt",
          `"${entry.fileName}" in "${pkgPath}" cannot be extracted: ${(e as Error).message}.`,
        );
      }
      if (crc >>> 0 !== entry.crc32 >>> 0) {
        throw integrity("CrcMismatch", `"${entry.fileName}" in "${pkgPath}" fails its CRC-32 check.`);
      }
      const mtime = entry.getLastModDate();
      await utimes(target, mtime, mtime);
      files++;
    }
    return { files, folders };
  } finally {
    zip.close();
  }
}

/**
 * Verifies the MAC before decrypting, decrypts while hashing, verifies FileDigest, then extracts (or keeps the
 * zip). Everything happens in a staging folder beside the output, renamed into place only on success.
 */
export async function unpackPackage(options: UnpackOptions): Promise<UnpackResult> {
  const outDir = resolve(options.outDir);
  const pkg = await openPackage(options.packagePath);
  try {
    if (!options.keepZip && !(await isEmptyOrMissing(outDir))) {
      throw new PublisherError("input", "OutputNotEmpty", `The output folder "${options.outDir}" is not empty.`, {
        hint: "Choose a new or empty folder for --out: unpack never mixes a package's files with others.",
      });
    }
    await verifyMac(pkg, options.signal);
    await mkdir(dirname(outDir), { recursive: true });
    const staging = await mkdtemp(join(dirname(outDir), `.${basename(outDir)}.unpack-`));
    try {
      const zipPath = join(staging, "content.zip");
      await decryptPayload(pkg, zipPath, options);
      if (options.keepZip) {
        await mkdir(outDir, { recursive: true });
        const finalZip = join(outDir, basename(options.packagePath).replace(/\.intunewin$/i, "") + ".zip");
        await rename(zipPath, finalZip);
        return { outDir, detection: pkg.detection, zipPath: finalZip, files: 0, folders: 0 };
      }
      const content = join(staging, "content");
      await mkdir(content);
      const counts = await extractZip(zipPath, content, options.packagePath, options.signal);
      await rm(zipPath);
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
