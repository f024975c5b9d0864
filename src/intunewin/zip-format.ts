/*
 * Zip records written byte for byte as Microsoft's IntuneWinAppUtil writes them (facts: test/fixtures/
 * README.md, docs/reference/intunewin-format.md and docs/packaging.md). Hand-written because no zip library lets us set version-made-by,
 * flags, extra fields and separators exactly, stream into an encryptor and add zip64 only when needed.
 */

export const ZIP64_LIMIT = 0xffffffff;
const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;

export interface ZipEntry {
  name: Buffer;
  method: 0 | 8;
  flags: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  dosTime: number;
  dosDate: number;
  /** Version made by (low byte: spec version; host 0 = FAT). */
  versionMadeBy: number;
  /** Version needed when zip64 is not required. */
  versionNeeded: number;
  localHeaderOffset: number;
}

export function needsZip64Sizes(e: Pick<ZipEntry, "compressedSize" | "uncompressedSize">): boolean {
  return e.compressedSize >= ZIP64_LIMIT || e.uncompressedSize >= ZIP64_LIMIT;
}

/** DOS date and time of a moment, in local time as Windows tools write them. */
export function dosDateTime(d: Date): { dosTime: number; dosDate: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    dosTime: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    dosDate: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeBigUInt64LE(BigInt(value), offset);
}

/** Zip64 extended-information extra field holding the given values in spec order. */
function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => writeU64(b, v, 4 + 8 * i));
  return b;
}

/**
 * Local file header. `extra` is appended as given; when sizes need zip64, the zip64 field goes first.
 * `padTo` pads the extra field to a fixed length with a 0xA220 record, as System.IO.Packaging does (its
 * "growth hint"), so the header can later be rewritten in place with or without zip64.
 */
export function localHeader(e: ZipEntry, options: { padTo?: number } = {}): Buffer {
  const zip64 = needsZip64Sizes(e);
  let extra: Buffer = zip64 ? zip64Extra([e.uncompressedSize, e.compressedSize]) : Buffer.alloc(0);
  if (options.padTo !== undefined) extra = Buffer.concat([extra, paddingRecord(options.padTo - extra.length)]);
  const h = Buffer.alloc(30);
  h.writeUInt32LE(SIG_LOCAL, 0);
  h.writeUInt16LE(zip64 ? 45 : e.versionNeeded, 4);
  h.writeUInt16LE(e.flags, 6);
  h.writeUInt16LE(e.method, 8);
  h.writeUInt16LE(e.dosTime, 10);
  h.writeUInt16LE(e.dosDate, 12);
  h.writeUInt32LE(e.crc >>> 0, 14);
  h.writeUInt32LE(zip64 ? ZIP64_LIMIT : e.compressedSize, 18);
  h.writeUInt32LE(zip64 ? ZIP64_LIMIT : e.uncompressedSize, 22);
  h.writeUInt16LE(e.name.length, 26);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, e.name, extra]);
}

/** The 0xA220 padding record of System.IO.Packaging: signature 0xA028, initial value 0x0014, then zeros. */
function paddingRecord(totalLength: number): Buffer {
  if (totalLength === 0) return Buffer.alloc(0);
  if (totalLength < 4) throw new RangeError("padding record needs at least 4 bytes");
  const b = Buffer.alloc(totalLength);
  b.writeUInt16LE(0xa220, 0);
  b.writeUInt16LE(totalLength - 4, 2);
  if (totalLength >= 8) {
    b.writeUInt16LE(0xa028, 4);
    b.writeUInt16LE(0x0014, 6);
  }
  return b;
}

export function centralHeader(e: ZipEntry): Buffer {
  const sizes64 = needsZip64Sizes(e);
  const offset64 = e.localHeaderOffset >= ZIP64_LIMIT;
  const values: number[] = [];
  if (sizes64) values.push(e.uncompressedSize, e.compressedSize);
  if (offset64) values.push(e.localHeaderOffset);
  const extra = values.length ? zip64Extra(values) : Buffer.alloc(0);
  const h = Buffer.alloc(46);
  h.writeUInt32LE(SIG_CENTRAL, 0);
  h.writeUInt16LE(
    values.length ? Math.max(45, e.versionMadeBy & 0xff) | (e.versionMadeBy & 0xff00) : e.versionMadeBy,
    4,
  );
  h.writeUInt16LE(values.length ? 45 : e.versionNeeded, 6);
  h.writeUInt16LE(e.flags, 8);
  h.writeUInt16LE(e.method, 10);
  h.writeUInt16LE(e.dosTime, 12);
  h.writeUInt16LE(e.dosDate, 14);
  h.writeUInt32LE(e.crc >>> 0, 16);
  h.writeUInt32LE(sizes64 ? ZIP64_LIMIT : e.compressedSize, 20);
  h.writeUInt32LE(sizes64 ? ZIP64_LIMIT : e.uncompressedSize, 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt16LE(extra.length, 30);
  // comment length, disk number, internal attributes and external attributes stay 0, as the tool writes them
  h.writeUInt32LE(offset64 ? ZIP64_LIMIT : e.localHeaderOffset, 42);
  return Buffer.concat([h, e.name, extra]);
}

/** End of central directory, preceded by the zip64 record and locator when any field overflows. */
export function endOfCentralDirectory(count: number, cdSize: number, cdOffset: number): Buffer {
  const zip64 = count >= 0xffff || cdSize >= ZIP64_LIMIT || cdOffset >= ZIP64_LIMIT;
  const parts: Buffer[] = [];
  if (zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(SIG_ZIP64_EOCD, 0);
    writeU64(rec, 44, 4); // size of the remaining record
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    writeU64(rec, count, 24);
    writeU64(rec, count, 32);
    writeU64(rec, cdSize, 40);
    writeU64(rec, cdOffset, 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(SIG_ZIP64_LOCATOR, 0);
    writeU64(loc, cdOffset + cdSize, 8);
    loc.writeUInt32LE(1, 16); // total number of disks
    parts.push(rec, loc);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(SIG_EOCD, 0);
  end.writeUInt16LE(zip64 ? 0xffff : count, 8);
  end.writeUInt16LE(zip64 ? 0xffff : count, 10);
  end.writeUInt32LE(zip64 ? ZIP64_LIMIT : cdSize, 12);
  end.writeUInt32LE(zip64 ? ZIP64_LIMIT : cdOffset, 16);
  parts.push(end);
  return Buffer.concat(parts);
}
