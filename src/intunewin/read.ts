import type { Readable } from "node:stream";
import { PublisherError } from "../core/errors.js";
import { hasKind, type CodeOfKind } from "../core/error-codes.js";
import { formatLimit } from "../platform/fs.js";
import { parseDetectionXml, type DetectionInfo } from "./detection-xml.js";
import {
  locateData,
  openItem,
  openZipArchive,
  readItems,
  type ZipArchive,
  type ZipFail,
  type ZipItem,
} from "./zip-read.js";

/** An opened .intunewin: its Detection.xml and a way to stream the encrypted payload. */
export interface IntunewinPackage {
  path: string;
  /** Size of the package file. */
  fileSize: number;
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
  /**
   * Where a stored payload's bytes are in the open package file (positional reads of `fd`, e.g. from a worker
   * thread; valid until `close`). Undefined for a deflated payload.
   */
  storedPayload: { fd: number; start: number } | undefined;
  /** Closes the file; payload streams and readers still open then fail. */
  close(): void;
}

/** Positional reads of the payload: `read` fills `buffer[0, length)` from payload byte `position`. */
export interface PayloadReader {
  read(buffer: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

/** A .intunewin has two entries; a few more are tolerated, a directory of thousands is not read. */
export const MAX_PACKAGE_ENTRIES = 16;
/** Detection.xml is a few KiB; it is read into memory, so its size is checked first. */
export const MAX_DETECTION_XML_BYTES = 1024 * 1024;

const DAMAGED_HINT =
  "Check the path, or download or package the file again: it may be truncated or not an .intunewin at all.";

export function notAPackage(path: string, why: string, code: CodeOfKind<"input"> = "PackageCorrupt"): PublisherError {
  return new PublisherError(code, `"${path}" is not a valid .intunewin package: ${why}.`, {
    hint: DAMAGED_HINT,
  });
}

/** Problems with the outer zip: structure as `input`, content that fails its own record as `integrity`. */
function outerFail(path: string): ZipFail {
  return (code, why) =>
    hasKind(code, "integrity")
      ? new PublisherError(code, `"${path}" is damaged: ${why}.`, {
          hint: "The package was altered or damaged after it was made: get or make a fresh copy.",
        })
      : new PublisherError(code, `"${path}" is not a valid .intunewin package: ${why}.`, { hint: DAMAGED_HINT });
}

/** Reads a small entry whole (its size is checked on its record before). */
async function readSmall(archive: ZipArchive, item: ZipItem): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of openItem(archive, item)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Positional reads of a stored entry, bounded to it, through the package's open file. */
function storedReader(archive: ZipArchive, item: ZipItem): PayloadReader {
  const start = item.dataStart;
  const size = item.compressedSize;
  return {
    read: (buffer, length, position) =>
      archive.source.read(buffer, start + position, Math.max(0, Math.min(length, size - position))),
    close: async () => {},
  };
}

/**
 * Opens a package: a regular file (a FIFO or device is refused at once), a zip of at most
 * {@link MAX_PACKAGE_ENTRIES} entries whose byte ranges do not overlap, stored or deflated, with a Detection.xml of
 * at most {@link MAX_DETECTION_XML_BYTES} and the payload it names.
 */
export async function openPackage(path: string): Promise<IntunewinPackage> {
  const fail = outerFail(path);
  const { archive, zip } = await openZipArchive({ path, what: "package" }, fail);
  try {
    let items: ZipItem[];
    try {
      items = await readItems(zip, archive, MAX_PACKAGE_ENTRIES, () =>
        notAPackage(path, `it has ${archive.entryCount} entries, where a .intunewin has 2`),
      );
    } catch (e) {
      if (e instanceof PublisherError) throw e;
      throw notAPackage(path, `its zip directory is damaged (${(e as Error).message})`);
    }
    await locateData(archive, items);
    for (const item of items) {
      if (item.method !== 0 && item.method !== 8) {
        throw notAPackage(
          path,
          `its entry "${item.name}" uses compression method ${item.method}; packages use stored (0) or deflate (8)`,
          "UnsupportedCompression",
        );
      }
      if (item.flags & 1) throw notAPackage(path, `its entry "${item.name}" is encrypted with a zip password`);
    }
    const detectionEntry = items.find((e) => e.name.toLowerCase().endsWith("detection.xml"));
    if (!detectionEntry) throw notAPackage(path, "it has no IntuneWinPackage/Metadata/Detection.xml");
    if (detectionEntry.uncompressedSize > MAX_DETECTION_XML_BYTES) {
      throw notAPackage(
        path,
        `its Detection.xml is ${formatLimit(detectionEntry.uncompressedSize)}, over the limit of ` +
          `${formatLimit(MAX_DETECTION_XML_BYTES)} (a real one is a few KiB)`,
        "DetectionXmlTooLarge",
      );
    }
    const detection = parseDetectionXml(await readSmall(archive, detectionEntry));
    const wanted = `intunewinpackage/contents/${detection.FileName.toLowerCase()}`;
    const payload =
      items.find((e) => e.name.toLowerCase() === wanted) ??
      items.find((e) => e.name.toLowerCase().endsWith("/" + detection.FileName.toLowerCase()));
    if (!payload) throw notAPackage(path, `it has no payload entry IntuneWinPackage/Contents/${detection.FileName}`);
    let closed = false;
    return {
      path,
      fileSize: archive.size,
      detection,
      payloadSize: payload.uncompressedSize,
      openPayload: async () => openItem(archive, payload),
      openPayloadReader: async () => (payload.method === 0 ? storedReader(archive, payload) : undefined),
      storedPayload:
        payload.method === 0 && payload.compressedSize === payload.uncompressedSize && archive.handle
          ? { fd: archive.handle.fd, start: payload.dataStart }
          : undefined,
      close: () => {
        if (closed) return;
        closed = true;
        archive.close().catch(() => {});
      },
    };
  } catch (e) {
    await archive.close();
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
