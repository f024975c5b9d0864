/*
 * Hostile packages written byte by byte, as an attacker would: zips whose records may lie (overlapping entries,
 * offsets and sizes that point anywhere, Unix symlinks, unknown methods), and a package around any inner zip,
 * encrypted and MACed correctly so that only the zip inside is hostile.
 */
import { createCipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { writeOuterZip } from "./independent.js";

export interface CraftedEntry {
  name: string;
  /** The bytes stored after the local header (already deflated when method is 8). */
  data?: Buffer;
  /** 0 stored (default), 8 deflate, or anything else. */
  method?: number;
  /** Uncompressed size recorded; default data.length. */
  size?: number;
  /** Compressed size recorded; default data.length. */
  compressedSize?: number;
  /** CRC-32 recorded; default the CRC of `content` or of `data`. */
  crc?: number;
  /** The uncompressed content, for the default CRC of a deflated entry. */
  content?: Buffer;
  /** Central record only, pointing at this offset (no local header or data written for it). */
  pointsAt?: number;
  /** The offset its central record gives, instead of where its local header really is. */
  recordedOffset?: number;
  /** Version made by (high byte: host, 3 = Unix); default 20 (FAT). */
  versionMadeBy?: number;
  externalAttributes?: number;
  flags?: number;
}

export interface CraftOptions {
  /** The end record's comment: the last bytes of the file. */
  comment?: Buffer;
}

function local(e: CraftedEntry, data: Buffer, crc: number): Buffer {
  const name = Buffer.from(e.name, "utf8");
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(e.flags ?? 0x0800, 6);
  h.writeUInt16LE(e.method ?? 0, 8);
  h.writeUInt16LE(0x21, 12); // 1980-01-01
  h.writeUInt32LE(crc >>> 0, 14);
  h.writeUInt32LE(e.compressedSize ?? data.length, 18);
  h.writeUInt32LE(e.size ?? data.length, 22);
  h.writeUInt16LE(name.length, 26);
  return Buffer.concat([h, name]);
}

function central(e: CraftedEntry, data: Buffer, crc: number, offset: number): Buffer {
  const name = Buffer.from(e.name, "utf8");
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(e.versionMadeBy ?? 20, 4);
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(e.flags ?? 0x0800, 8);
  h.writeUInt16LE(e.method ?? 0, 10);
  h.writeUInt16LE(0x21, 14);
  h.writeUInt32LE(crc >>> 0, 16);
  h.writeUInt32LE(e.compressedSize ?? data.length, 20);
  h.writeUInt32LE(e.size ?? data.length, 24);
  h.writeUInt16LE(name.length, 28);
  h.writeUInt32LE(e.externalAttributes ?? 0, 38);
  h.writeUInt32LE(offset, 42);
  return Buffer.concat([h, name]);
}

/** End of central directory, with the zip64 record and locator when the count needs them. */
function end(count: number, cdSize: number, cdOffset: number, comment: Buffer): Buffer {
  const parts: Buffer[] = [];
  const zip64 = count >= 0xffff;
  if (zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(count), 24);
    rec.writeBigUInt64LE(BigInt(count), 32);
    rec.writeBigUInt64LE(BigInt(cdSize), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
    loc.writeUInt32LE(1, 16);
    parts.push(rec, loc);
  }
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(zip64 ? 0xffff : count, 8);
  e.writeUInt16LE(zip64 ? 0xffff : count, 10);
  e.writeUInt32LE(cdSize, 12);
  e.writeUInt32LE(cdOffset, 16);
  e.writeUInt16LE(comment.length, 20);
  parts.push(e, comment);
  return Buffer.concat(parts);
}

/** A zip of the given entries, written as recorded: nothing is checked or corrected. */
export function craftZip(entries: CraftedEntry[], options: CraftOptions = {}): Buffer {
  const body: Buffer[] = [];
  const records: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const crc = e.crc ?? crc32(e.content ?? data);
    if (e.pointsAt !== undefined) {
      records.push(central(e, data, crc, e.pointsAt));
      continue;
    }
    const h = local(e, data, crc);
    records.push(central(e, data, crc, e.recordedOffset ?? offset));
    body.push(h, data);
    offset += h.length + data.length;
  }
  const cd = Buffer.concat(records);
  return Buffer.concat([...body, cd, end(records.length, cd.length, offset, options.comment ?? Buffer.alloc(0))]);
}

/** A Detection.xml for the given keys and content, as a hostile writer would make it. */
export function detectionXml(o: { key: Buffer; macKey: Buffer; iv: Buffer; mac: Buffer; content: Buffer }): string {
  const b64 = (b: Buffer): string => b.toString("base64");
  return `<ApplicationInfo ToolVersion="1.8.7.0"><Name>x</Name><UnencryptedContentSize>${o.content.length}</UnencryptedContentSize><FileName>IntunePackage.intunewin</FileName><SetupFile>x.exe</SetupFile><EncryptionInfo><EncryptionKey>${b64(o.key)}</EncryptionKey><MacKey>${b64(o.macKey)}</MacKey><InitializationVector>${b64(o.iv)}</InitializationVector><Mac>${b64(o.mac)}</Mac><ProfileIdentifier>ProfileVersion1</ProfileIdentifier><FileDigest>${b64(createHash("sha256").update(o.content).digest())}</FileDigest><FileDigestAlgorithm>SHA256</FileDigestAlgorithm></EncryptionInfo></ApplicationInfo>`;
}

/** Encrypts `content` as a payload (MAC‖IV‖ciphertext) with fresh keys; returns it and its Detection.xml. */
export function encryptPayload(content: Buffer): { payload: Buffer; xml: string } {
  const key = randomBytes(32);
  const macKey = randomBytes(32);
  const iv = randomBytes(16);
  const c = createCipheriv("aes-256-cbc", key, iv);
  const ct = Buffer.concat([c.update(content), c.final()]);
  const mac = createHmac("sha256", macKey)
    .update(Buffer.concat([iv, ct]))
    .digest();
  return { payload: Buffer.concat([mac, iv, ct]), xml: detectionXml({ key, macKey, iv, mac, content }) };
}

/** A correctly encrypted and MACed package around any inner zip (outer zip written by CPython). */
export async function packageAround(innerZip: Buffer, dir: string, name = "evil.intunewin"): Promise<string> {
  const { payload, xml } = encryptPayload(innerZip);
  await writeFile(join(dir, "payload"), payload);
  const path = join(dir, name);
  writeOuterZip(path, join(dir, "payload"), xml);
  return path;
}
