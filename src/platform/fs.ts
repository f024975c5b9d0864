/**
 * Reading files that something names (a definition, a profile, a seed, a package): regular files only, opened
 * without blocking (a FIFO never hangs), size checked on the open descriptor and again while reading (a file that
 * grows is caught), and paths kept inside the roots the user allowed. Every refusal is a PublisherError of kind
 * "input" naming the file, the problem and the limit, so callers only add what the file is for.
 *
 * Hand-written because no maintained library combines O_NONBLOCK + fstat-on-the-descriptor + a read cap; each
 * part is a few lines of node:fs.
 */
import { constants } from "node:fs";
import type { Stats } from "node:fs";
import { open, realpath } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { PublisherError } from "../core/errors.js";

/** O_NONBLOCK makes open() of a FIFO return at once; Windows has no FIFOs and no such flag. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export interface FileRef {
  path: string;
  /** What the file is for, in words: "app definition", "detection script", "seed file"… */
  what: string;
}

export interface BoundedReadOptions extends FileRef {
  maxBytes: number;
}

/** Bytes in words: "1 MiB", "512 KiB", "300 bytes". */
export function formatLimit(bytes: number): string {
  const units: [number, string][] = [
    [1024 ** 3, "GiB"],
    [1024 ** 2, "MiB"],
    [1024, "KiB"],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
    if (bytes >= size) return `${(bytes / size).toFixed(1)} ${unit}`;
  }
  return `${bytes} bytes`;
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return "a folder";
  if (s.isFIFO()) return "a named pipe (FIFO)";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isSocket()) return "a socket";
  return "not a regular file";
}

export function fileTooLarge(ref: FileRef, size: number | undefined, maxBytes: number): PublisherError {
  const got = size === undefined ? "larger than" : `${formatLimit(size)}, over`;
  return new PublisherError(
    "FileTooLarge",
    `The ${ref.what} ${ref.path} is ${got} the limit of ${formatLimit(maxBytes)}.`,
    { hint: `Give a smaller ${ref.what}; the limits are listed in docs/limits.md.` },
  );
}

function openError(ref: FileRef, e: unknown): PublisherError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR")
    return new PublisherError("FileNotFound", `The ${ref.what} ${ref.path} does not exist.`, {
      cause: e,
      hint: "Check the path.",
    });
  if (code === "EISDIR") return notRegular(ref, "a folder");
  if (code === "EACCES" || code === "EPERM")
    return new PublisherError("FileNotReadable", `The ${ref.what} ${ref.path} cannot be read (${code}).`, {
      cause: e,
      hint: "Check the file's permissions.",
    });
  if (code === "ELOOP")
    return new PublisherError("FileNotFound", `The ${ref.what} ${ref.path} is a symbolic link loop.`, {
      cause: e,
      hint: "Check the path.",
    });
  return new PublisherError("FileNotReadable", `Cannot open the ${ref.what} ${ref.path} (${code ?? "error"}).`, {
    cause: e,
    hint: "Check the path and the file's permissions.",
  });
}

function notRegular(ref: FileRef, kind: string): PublisherError {
  return new PublisherError("NotRegularFile", `The ${ref.what} ${ref.path} is ${kind}, not a regular file.`, {
    hint: `Name a regular file as the ${ref.what}.`,
  });
}

/**
 * Opens a regular file for reading without ever blocking on a FIFO or device, and checks it on the open
 * descriptor (no check-then-open race). The caller closes the handle.
 */
export async function openRegularFile(ref: FileRef): Promise<{ handle: FileHandle; stats: Stats }> {
  let handle: FileHandle;
  try {
    handle = await open(ref.path, OPEN_FLAGS);
  } catch (e) {
    throw openError(ref, e);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(ref, kindOf(stats));
    return { handle, stats };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Reads a whole regular file of at most `maxBytes` bytes; memory is bounded by the limit, never by the file. */
export async function readBoundedFile(o: BoundedReadOptions): Promise<Buffer> {
  const { handle, stats } = await openRegularFile(o);
  try {
    if (stats.size > o.maxBytes) throw fileTooLarge(o, stats.size, o.maxBytes);
    // Read until end of file, never past one byte over the limit (a file may grow after fstat).
    const parts: Buffer[] = [];
    let filled = 0;
    for (;;) {
      const want = Math.min(Math.max(stats.size - filled, 64 * 1024), o.maxBytes + 1 - filled);
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(chunk, 0, want, filled);
      if (bytesRead === 0) break;
      parts.push(chunk.subarray(0, bytesRead));
      filled += bytesRead;
      if (filled > o.maxBytes) throw fileTooLarge(o, undefined, o.maxBytes);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, filled);
  } finally {
    await handle.close();
  }
}

/** readBoundedFile as UTF-8 text, a leading byte-order mark removed. */
export async function readBoundedText(o: BoundedReadOptions): Promise<string> {
  return (await readBoundedFile(o)).toString("utf8").replace(/^\uFEFF/, "");
}

/** True when `child` is `root` or inside it (both absolute and already resolved). */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/**
 * Resolves `written` against `base` and follows symbolic links; the result must lie inside one of `roots`
 * (themselves resolved through links). Returns the real path. A file that does not exist is reported by the
 * read that follows, so a missing path resolves lexically here and is checked the same way.
 */
export async function resolveInsideRoots(
  base: string,
  written: string,
  roots: readonly string[],
  ref: { what: string },
): Promise<string> {
  const lexical = resolve(base, written);
  const real = await realpath(lexical).catch(() => lexical);
  const realRoots = await Promise.all(roots.map((r) => realpath(resolve(r)).catch(() => resolve(r))));
  if (realRoots.some((r) => isInside(r, real))) return real;
  throw new PublisherError(
    "OutsideAllowedRoots",
    `The ${ref.what} ${written} resolves to ${real}, outside the folders this run may read (${realRoots.join(", ")}).`,
    {
      hint: "Keep the files a definition names in its folder, or allow another folder with --allow-path DIR (docs/app-definitions.md).",
    },
  );
}
