import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import yauzl from "yauzl";
import { PublisherError } from "../core/errors.js";
import { parseDetectionXml, type DetectionInfo } from "./detection-xml.js";

/** An opened .intunewin: its Detection.xml and a way to stream the encrypted payload. */
export interface IntunewinPackage {
  path: string;
  detection: DetectionInfo;
  /** Byte length of the encrypted payload entry. */
  payloadSize: number;
  openPayload(): Promise<Readable>;
  /**
   * A stored payload (every .intunewin we and Microsoft's tool write) read at any position straight into the
   * caller's buffer: no intermediate chunks, so uploading large payloads makes no garbage. Undefined for a
   * deflated payload (only `openPayload` then).
   */
  openPayloadReader(): Promise<PayloadReader | undefined>;
  close(): void;
}

/** Positional reads of the payload: `read` fills `buffer[0, length)` from payload byte `position`. */
export interface PayloadReader {
  read(buffer: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

export function notAPackage(path: string, why: string): PublisherError {
  return new PublisherError("input", "PackageCorrupt", `"${path}" is not a valid .intunewin package: ${why}.`, {
    hint: "Check the path, or download or package the file again: it may be truncated or not an .intunewin at all.",
  });
}

export async function openZip(path: string, what: (why: string) => PublisherError): Promise<yauzl.ZipFile> {
  try {
    return await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: false }, (err, zip) =>
        err ? reject(err) : resolve(zip),
      ),
    );
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") {
      throw new PublisherError("input", "FileNotFound", `"${path}" does not exist.`, { hint: "Check the path." });
    }
    if (err.code === "EISDIR") {
      throw new PublisherError("input", "FileNotFound", `"${path}" is a folder, not a file.`, {
        hint: "Check the path.",
      });
    }
    throw what(`it is not a complete zip file (${err.message})`);
  }
}

/** Reads the central directory; yauzl reports unsafe names and broken records as errors. */
export async function readEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return await new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on("entry", (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.once("end", () => resolve(entries));
    zip.once("error", reject);
    zip.readEntry();
  });
}

export function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
}

/** The file offset of a stored entry's data (after its local header), with the file opened. */
async function storedStart(fh: FileHandle, entry: yauzl.Entry): Promise<number> {
  const header = Buffer.alloc(30);
  const { bytesRead } = await fh.read(header, 0, 30, entry.relativeOffsetOfLocalHeader);
  if (bytesRead !== 30 || header.readUInt32LE(0) !== 0x04034b50) {
    throw new Error(`no local header for ${entry.fileName}`);
  }
  return entry.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
}

/**
 * A stored entry read straight from the file in 1 MiB chunks: yauzl's entry stream hands out 16 KiB chunks,
 * which made reading a payload three times slower than reading the file.
 */
async function openStored(path: string, entry: yauzl.Entry): Promise<Readable> {
  if (entry.compressedSize === 0) return Readable.from([]);
  const fh = await open(path, "r");
  try {
    const start = await storedStart(fh, entry);
    const end = start + entry.compressedSize - 1;
    return createReadStream(path, { fd: fh, start, end, highWaterMark: 1024 * 1024 });
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Positional reads of a stored entry, bounded to it. */
async function openStoredReader(path: string, entry: yauzl.Entry): Promise<PayloadReader> {
  const fh = await open(path, "r");
  try {
    const start = await storedStart(fh, entry);
    const size = entry.compressedSize;
    return {
      async read(buffer, length, position) {
        const want = Math.max(0, Math.min(length, size - position));
        let done = 0;
        while (done < want) {
          const { bytesRead } = await fh.read(buffer, done, want - done, start + position + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done;
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

async function readWhole(zip: yauzl.ZipFile, entry: yauzl.Entry, limit: number): Promise<Buffer> {
  if (entry.uncompressedSize > limit) throw new Error(`entry ${entry.fileName} is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  for await (const c of await openEntry(zip, entry)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function openPackage(path: string): Promise<IntunewinPackage> {
  const zip = await openZip(path, (why) => notAPackage(path, why));
  try {
    let entries: yauzl.Entry[];
    try {
      entries = await readEntries(zip);
    } catch (e) {
      throw notAPackage(path, `its zip directory is damaged (${(e as Error).message})`);
    }
    const detectionEntry = entries.find((e) => e.fileName.toLowerCase().endsWith("detection.xml"));
    if (!detectionEntry) throw notAPackage(path, "it has no IntuneWinPackage/Metadata/Detection.xml");
    let xml: Buffer;
    try {
      xml = await readWhole(zip, detectionEntry, 1024 * 1024);
    } catch (e) {
      throw notAPackage(path, `Detection.xml cannot be read (${(e as Error).message})`);
    }
    const detection = parseDetectionXml(xml);
    const wanted = `intunewinpackage/contents/${detection.FileName.toLowerCase()}`;
    const payload =
      entries.find((e) => e.fileName.toLowerCase() === wanted) ??
      entries.find((e) => e.fileName.toLowerCase().endsWith("/" + detection.FileName.toLowerCase()));
    if (!payload) throw notAPackage(path, `it has no payload entry IntuneWinPackage/Contents/${detection.FileName}`);
    return {
      path,
      detection,
      payloadSize: payload.uncompressedSize,
      openPayload: () => (payload.compressionMethod === 0 ? openStored(path, payload) : openEntry(zip, payload)),
      openPayloadReader: async () =>
        payload.compressionMethod === 0 && payload.compressedSize === payload.uncompressedSize
          ? openStoredReader(path, payload)
          : undefined,
      close: () => zip.close(),
    };
  } catch (e) {
    zip.close();
    throw e;
  }
}

/** Detection.xml without the two secret keys: what `inspect` shows unless --show-keys. */
export function withoutKeys(d: DetectionInfo): Omit<DetectionInfo, "EncryptionInfo"> & {
  EncryptionInfo: Omit<DetectionInfo["EncryptionInfo"], "EncryptionKey" | "MacKey">;
} {
  const { EncryptionKey: _k, MacKey: _m, ...rest } = d.EncryptionInfo;
  return { ...d, EncryptionInfo: rest };
}
