/**
 * Reading zips we did not write, safely: the outer zip of a .intunewin and the decrypted inner zip. yauzl parses
 * the central directory (zip64, name decoding, unsafe-name checks); everything else is ours, because a hostile
 * zip must be refused before anything is written: the entry count is checked before the directory is read, each
 * entry is kept as a small record (no extra fields or comments), every local header is read and the entries'
 * byte ranges must neither overlap (the trick of zip bombs) nor reach the central directory, and an entry's data
 * is read from the open file and inflated no further than its declared size.
 */
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createInflateRaw } from "node:zlib";
import yauzl from "yauzl";
import { InternalError, PublisherError } from "../core/errors.js";
import type { CodeOfKind } from "../core/error-codes.js";
import { openRegularFile, type FileRef } from "../platform/fs.js";
import { noteGarbage } from "../platform/gc.js";

/** Builds the error for a problem with this zip; `why` completes a sentence about it. */
/** Builds the refusal for `code`; its kind (input or integrity) comes from the error catalogue. */
export type ZipFail = (code: CodeOfKind<"input" | "integrity">, why: string) => PublisherError;

/** One central-directory entry, without its extra fields and comment. */
export interface ZipItem {
  /** As yauzl decodes it, `\` turned into `/`; folders end in `/`. */
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  dosDate: number;
  dosTime: number;
  /** A Unix symbolic link (made on Unix, mode S_IFLNK). */
  symlink: boolean;
  /** Where its data starts; set by {@link locateData}. */
  dataStart: number;
}

/**
 * Random access to a zip's bytes: a file, or a stored .intunewin payload decrypted on the fly
 * (src/intunewin/decrypting-source.ts).
 */
export interface ZipSource {
  path: string;
  size: number;
  /** Fills `into[0, length)` from `position`; fewer bytes only at the end. */
  read(into: Buffer, position: number, length: number): Promise<number>;
  /** `length` bytes from `position` in a fresh buffer (shorter only at the end), dropped by the caller once used. */
  chunk(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface ZipArchive {
  path: string;
  /** The open file, for a zip read from a file. */
  handle: FileHandle | undefined;
  source: ZipSource;
  size: number;
  /** The count the end records declare, known before the directory is read. */
  entryCount: number;
  centralDirectoryOffset: number;
  fail: ZipFail;
  close(): Promise<void>;
}

/**
 * yauzl reading through our open FileHandle. yauzl's own fd reader closes the descriptor when the zip is closed,
 * under the FileHandle's feet; this one leaves closing to the handle's owner.
 */
class SourceReader extends yauzl.RandomAccessReader {
  constructor(private readonly source: ZipSource) {
    super();
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null, bytesRead?: number) => void,
  ): void {
    this.source.read(buffer.subarray(offset), position, length).then(
      (n) => callback(null, n),
      (e: unknown) => callback(e as Error),
    );
  }

  override _readStreamForRange(): Readable {
    throw new InternalError("entry data is read by openItem, not through yauzl");
  }
}

/**
 * Opens a zip through {@link openRegularFile} (a FIFO or device is refused, never waited on) and reads its end
 * records. A file that is not a zip fails with `fail(code, …)` (an input code).
 */
export async function openZipArchive(
  ref: FileRef,
  fail: ZipFail,
): Promise<{ archive: ZipArchive; zip: yauzl.ZipFile }> {
  const { handle, stats } = await openRegularFile(ref);
  const source: ZipSource = {
    path: ref.path,
    size: stats.size,
    read: (into, position, length) => readFully(handle, into, position, length),
    chunk: async (position, length) => {
      const buf = Buffer.allocUnsafe(length);
      const got = await readFully(handle, buf, position, length);
      return got === length ? buf : buf.subarray(0, got);
    },
    close: () => handle.close(),
  };
  return openZipSource(source, fail, handle);
}

/** Reads the end records of the zip in `source`; closes the source when that fails. */
export async function openZipSource(
  source: ZipSource,
  fail: ZipFail,
  handle?: FileHandle,
): Promise<{ archive: ZipArchive; zip: yauzl.ZipFile }> {
  try {
    if (source.size === 0) throw fail("PackageEmpty", "the file is empty (0 bytes)");
    const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.fromRandomAccessReader(
        new SourceReader(source),
        source.size,
        { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true },
        (err, z) => (err ? reject(err) : resolve(z)),
      ),
    ).catch((e: unknown) => {
      if (e instanceof PublisherError) throw e; // from the source itself
      throw fail("PackageCorrupt", `it is not a complete zip file (${(e as Error).message})`);
    });
    // yauzl keeps where the central directory starts as its read cursor until the first entry is read.
    const centralDirectoryOffset = (zip as unknown as { readEntryCursor: number }).readEntryCursor;
    if (typeof centralDirectoryOffset !== "number" || centralDirectoryOffset > source.size) {
      zip.close();
      throw fail("PackageCorrupt", "its end record places the central directory past the end of the file");
    }
    const archive: ZipArchive = {
      path: source.path,
      handle,
      source,
      size: source.size,
      entryCount: zip.entryCount,
      centralDirectoryOffset,
      fail,
      close: async () => {
        zip.close();
        await source.close();
      },
    };
    return { archive, zip };
  } catch (e) {
    await source.close();
    throw e;
  }
}

/**
 * Reads the central directory into small records, after checking the declared count against `maxEntries`.
 * yauzl's own refusals (absolute or `..` names, damaged records) are rejected as yauzl's Error, for the caller
 * to word; `onItem` may refuse an entry as soon as it is read.
 */
export async function readItems(
  zip: yauzl.ZipFile,
  archive: ZipArchive,
  maxEntries: number,
  tooMany: () => PublisherError,
  onItem?: (item: ZipItem) => void,
): Promise<ZipItem[]> {
  if (archive.entryCount > maxEntries) throw tooMany();
  return await new Promise<ZipItem[]>((resolve, reject) => {
    const items: ZipItem[] = [];
    zip.on("entry", (e: yauzl.Entry) => {
      try {
        if (items.length >= maxEntries) throw tooMany();
        const item: ZipItem = {
          name: e.fileName,
          method: e.compressionMethod,
          flags: e.generalPurposeBitFlag,
          crc32: e.crc32,
          compressedSize: e.compressedSize,
          uncompressedSize: e.uncompressedSize,
          localHeaderOffset: e.relativeOffsetOfLocalHeader,
          dosDate: e.lastModFileDate,
          dosTime: e.lastModFileTime,
          symlink: e.versionMadeBy >> 8 === 3 && ((e.externalFileAttributes >>> 16) & 0o170000) === 0o120000,
          dataStart: -1,
        };
        onItem?.(item);
        items.push(item);
        zip.readEntry();
      } catch (err) {
        zip.removeAllListeners("entry");
        reject(err as Error);
      }
    });
    zip.once("end", () => resolve(items));
    zip.once("error", reject);
    zip.readEntry();
  });
}

const SIG_LOCAL = 0x04034b50;
/** Local headers are read through a window this large: a few entries per read, and little to decrypt per header. */
const WINDOW = 4 * 1024;

/**
 * Reads every entry's local header and sets `dataStart`. Refuses (`input`) a missing local header, entries whose
 * header-and-data ranges overlap, and data running into the central directory.
 */
export async function locateData(archive: ZipArchive, items: readonly ZipItem[]): Promise<void> {
  const { fail, centralDirectoryOffset: cd } = archive;
  const sorted = [...items].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  // Headers are read through a small window: many small entries cost few reads.
  const window = Buffer.alloc(WINDOW);
  let windowStart = 0;
  let windowLength = 0;
  let previous: ZipItem | undefined;
  let previousEnd = 0;
  for (const item of sorted) {
    const at = item.localHeaderOffset;
    if (at + 30 > cd) {
      throw fail("BadLocalHeader", `the local header of "${item.name}" lies outside the entries' area`);
    }
    if (at < windowStart || at + 30 > windowStart + windowLength) {
      windowStart = at;
      windowLength = await archive.source.read(window, at, Math.min(WINDOW, cd - at));
    }
    const header = window.subarray(at - windowStart, at - windowStart + 30);
    if (at + 30 > windowStart + windowLength || header.readUInt32LE(0) !== SIG_LOCAL) {
      throw fail("BadLocalHeader", `"${item.name}" points at offset ${at}, where no local header starts`);
    }
    if (previous && at < previousEnd) {
      throw fail(
        "OverlappingEntries",
        `the entries "${previous.name}" and "${item.name}" share bytes (overlapping entries, the trick behind zip bombs)`,
      );
    }
    item.dataStart = at + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const end = item.dataStart + item.compressedSize;
    if (end > cd) {
      throw fail(
        "OverlappingEntries",
        `the data of "${item.name}" runs into the zip's central directory (an overlapping entry)`,
      );
    }
    previous = item;
    previousEnd = end;
  }
}

async function readFully(handle: FileHandle, into: Buffer, position: number, length: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(into, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/**
 * Entry data is read, and inflated, in pieces of up to this much: few enough stream round trips, and small enough
 * that the pieces in flight and the dead ones awaiting a collection stay a few MiB (each is a fresh buffer).
 */
const PIECE = 256 * 1024;

/** A byte range of the source, read in pieces of up to {@link PIECE}. */
async function* readRange(archive: ZipArchive, item: ZipItem): AsyncGenerator<Buffer> {
  const length = item.compressedSize;
  for (let done = 0; done < length;) {
    const want = Math.min(PIECE, length - done);
    const buf = await archive.source.chunk(item.dataStart + done, want);
    if (buf.length === 0) throw archive.fail("PackageCorrupt", `the data of "${item.name}" is cut short`);
    done += buf.length;
    yield buf;
    noteGarbage(want);
  }
}

/**
 * The entry's content, stored or deflated (other methods are refused beforehand). A deflated entry is inflated no
 * further than its declared size: more, or fewer, bytes fail as `integrity` (its data does not match its record),
 * as does deflate data zlib cannot decode.
 */
export function openItem(archive: ZipArchive, item: ZipItem): Readable {
  if (item.dataStart < 0) throw new InternalError(`openItem before locateData: ${item.name}`);
  if (item.method === 0) return Readable.from(readRange(archive, item), { objectMode: false });
  return Readable.from(inflateItem(archive, item), { objectMode: false });
}

async function* inflateItem(archive: ZipArchive, item: ZipItem): AsyncGenerator<Buffer> {
  const expected = item.uncompressedSize;
  let count = 0;
  const sizeMismatch = (): PublisherError =>
    archive.fail(
      "EntrySizeMismatch",
      `"${item.name}" inflates to ${count > expected ? "more" : "fewer"} bytes than the ${expected} its record declares`,
    );
  // Output in pieces of up to PIECE (zlib's default is 16 KiB: one thread-pool round trip per 16 KiB, which made
  // inflating most of unpack's main-thread time).
  const inflate = createInflateRaw({ chunkSize: Math.max(64 * 1024, Math.min(PIECE, expected)) });
  const feeding = pipeline(Readable.from(readRange(archive, item), { objectMode: false }), inflate);
  feeding.catch(() => {}); // the same error ends the loop below
  try {
    for await (const chunk of inflate) {
      count += (chunk as Buffer).length;
      if (count > expected) throw sizeMismatch();
      yield chunk as Buffer;
    }
    await feeding;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === "string" && err.code.startsWith("Z_")) {
      throw archive.fail("EntryDataCorrupt", `the deflate data of "${item.name}" is damaged (${err.message})`);
    }
    throw e;
  } finally {
    inflate.destroy(); // stops reading when the consumer stops early
  }
  if (count !== expected) throw sizeMismatch();
}
