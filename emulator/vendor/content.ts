/**
 * What the vendor host sends: a body of known size that can be read from any offset (for Range requests), from
 * bytes in memory, a fixture file (opened per request, regular files only), or pseudo-random bytes generated as they
 * are sent (AES-256-CTR of zeros, keyed by a seed: random access by counter, gigabytes without memory).
 */
import { createCipheriv, createHash } from "node:crypto";
import { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import { openRegularFile } from "../../src/platform/fs.js";

export interface Body {
  readonly size: number;
  /** bytes `start` to `end` inclusive (`end` < `start` for an empty range) */
  stream(start: number, end: number): Readable;
}

const CHUNK = 256 * 1024;

export function bytesBody(bytes: Buffer): Body {
  return {
    size: bytes.length,
    stream: (start, end) => Readable.from(end < start ? [] : [bytes.subarray(start, end + 1)]),
  };
}

/** A fixture file; its size is read now, and every stream opens it again (a regular file, never a FIFO). */
export async function fileBody(path: string, what: string): Promise<Body> {
  const { handle, stats } = await openRegularFile({ path, what });
  await handle.close();
  const size = stats.size;
  async function* read(start: number, end: number): AsyncGenerator<Buffer> {
    if (end < start) return;
    const { handle: h } = await openRegularFile({ path, what });
    try {
      for (let at = start; at <= end;) {
        const want = Math.min(CHUNK, end + 1 - at);
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await h.read(buf, 0, want, at);
        if (bytesRead === 0) throw new Error(`${path} shrank while being served.`);
        yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
        at += bytesRead;
      }
    } finally {
      await h.close();
    }
  }
  return { size, stream: (start, end) => Readable.from(read(start, end), { objectMode: false }) };
}

/** `size` pseudo-random bytes, the same for the same seed. */
export function generatedBody(seed: string, size: number): Body {
  const key = createHash("sha256").update(`intune-publisher vendor host content:${seed}`).digest();
  const zeros = Buffer.alloc(CHUNK);
  function* read(start: number, end: number): Generator<Buffer> {
    if (end < start) return;
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt(Math.floor(start / 16)), 8);
    const cipher = createCipheriv("aes-256-ctr", key, iv);
    let skip = start % 16;
    for (let at = start; at <= end;) {
      const want = Math.min(CHUNK, end + 1 - at);
      const out = cipher.update(zeros.subarray(0, Math.min(CHUNK, want + skip)));
      const piece = out.subarray(skip, skip + want);
      skip = 0;
      yield piece;
      at += piece.length;
    }
  }
  return { size, stream: (start, end) => Readable.from(read(start, end), { objectMode: false }) };
}

/** The same size, the first byte changed: what a tampered or damaged mirror serves. */
export function flipFirstByte(body: Body): Body {
  return {
    size: body.size,
    stream(start, end) {
      const src = body.stream(start, end);
      if (start !== 0) return src;
      async function* flipped(): AsyncGenerator<Buffer> {
        let first = true;
        for await (const c of src) {
          const chunk = c as Buffer;
          if (!first || chunk.length === 0) {
            yield chunk;
            continue;
          }
          first = false;
          const copy = Buffer.from(chunk);
          copy[0] = copy[0]! ^ 0xff;
          yield copy;
        }
      }
      return Readable.from(flipped(), { objectMode: false });
    },
  };
}

/** `body` followed by `suffix`: a file that changed (a new build with the same name). */
export function withSuffix(body: Body, suffix: Buffer): Body {
  return {
    size: body.size + suffix.length,
    stream(start, end) {
      const head = start < body.size ? body.stream(start, Math.min(end, body.size - 1)) : undefined;
      const tail = end >= body.size ? suffix.subarray(Math.max(0, start - body.size), end - body.size + 1) : undefined;
      async function* all(): AsyncGenerator<Buffer> {
        if (head !== undefined) for await (const c of head) yield c as Buffer;
        if (tail !== undefined && tail.length > 0) yield tail;
      }
      return Readable.from(all(), { objectMode: false });
    },
  };
}

/** SHA-256 (lower-case hex) of a whole body, read as a stream. */
export async function sha256Of(body: Body): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of body.stream(0, body.size - 1)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * A stored (uncompressed) zip of these files, as a vendor's download would be: local headers, then the central
 * directory and its end record (PKWARE APPNOTE 4.3; UTF-8 names, flag 0x0800; fixed time 2026-01-01). Small files only
 * (no zip64).
 */
export function storedZip(files: readonly { name: string; bytes: Buffer }[]): Buffer {
  const DOS_TIME = 0;
  const DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1;
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, "utf8");
    const crc = crc32(f.bytes) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.bytes.length, 18);
    local.writeUInt32LE(f.bytes.length, 22);
    local.writeUInt16LE(name.length, 26);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(20, 4); // made by: FAT
    record.writeUInt16LE(20, 6);
    record.writeUInt16LE(0x0800, 8);
    record.writeUInt16LE(0, 10);
    record.writeUInt16LE(DOS_TIME, 12);
    record.writeUInt16LE(DOS_DATE, 14);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(f.bytes.length, 20);
    record.writeUInt32LE(f.bytes.length, 24);
    record.writeUInt16LE(name.length, 28);
    record.writeUInt32LE(offset, 42);
    parts.push(local, name, f.bytes);
    central.push(record, name);
    offset += local.length + name.length + f.bytes.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}
