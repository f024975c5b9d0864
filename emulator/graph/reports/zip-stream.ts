/**
 * A one-entry zip written as a stream (deflate, sizes and CRC in a data descriptor, then the central directory), so
 * a report of millions of rows is compressed as it is produced and never held whole. Zip64 is not written: an entry
 * over 4 GiB is refused (the local tenant's reports are far smaller). Format: PKWARE's APPNOTE.TXT, section 4.3.
 */
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, crc32, createDeflateRaw } from "node:zlib";

const U32 = 0xffff_ffff;

function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/**
 * The zip of one file `name` whose content is `chunks`. `truncated` (fault injection) stops after the compressed
 * data, leaving out the data descriptor, central directory and end record, as an interrupted transfer would.
 */
export function zipStream(
  name: string,
  chunks: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
  options: { now?: Date; truncated?: boolean } = {},
): Readable {
  const out = new PassThrough();
  const nameBytes = Buffer.from(name, "utf8");
  const { time, date } = dosTime(options.now ?? new Date());
  const push = async (b: Buffer): Promise<void> => {
    if (!out.write(b)) await new Promise<void>((r) => out.once("drain", () => r()));
  };

  const run = async (): Promise<void> => {
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0808, 6); // data descriptor follows; UTF-8 name
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt16LE(nameBytes.length, 26);
    await push(Buffer.concat([local, nameBytes]));

    let crc = 0;
    let size = 0;
    let compressed = 0;
    const deflate = createDeflateRaw({ level: constants.Z_BEST_SPEED });
    const source = Readable.from(
      (async function* () {
        for await (const c of chunks) {
          const b = typeof c === "string" ? Buffer.from(c, "utf8") : c;
          crc = crc32(b, crc);
          size += b.length;
          yield b;
        }
      })(),
    );
    const sink = async (s: AsyncIterable<Buffer>): Promise<void> => {
      for await (const b of s) {
        compressed += b.length;
        await push(b);
      }
    };
    await pipeline(source, deflate, sink);
    if (size > U32 || compressed > U32) throw new Error("The report is over 4 GiB: zip64 is not written.");
    if (options.truncated === true) return;

    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    descriptor.writeUInt32LE(compressed, 8);
    descriptor.writeUInt32LE(size, 12);
    await push(descriptor);
    const centralOffset = 30 + nameBytes.length + compressed + 16;

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0808, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(compressed, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    await push(Buffer.concat([central, nameBytes]));

    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(46 + nameBytes.length, 12);
    end.writeUInt32LE(centralOffset, 16);
    await push(end);
  };
  run().then(
    () => out.end(),
    (e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))),
  );
  return out;
}
