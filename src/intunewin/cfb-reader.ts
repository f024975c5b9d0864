/**
 * A small reader for OLE compound files ([MS-CFB]) that fetches only the sectors it needs, so that a
 * multi-gigabyte MSI can be inspected in constant memory. Hand-written: no maintained npm package
 * reads a compound file lazily from a file descriptor (`cfb` parses a whole buffer).
 *
 * The reading logic is written once, as generators that yield each read they need ({@link Reads});
 * {@link runOnBytes} answers them from memory and {@link runOnHandle} from an open file.
 *
 * Besides the streams asked for, it reads the header, the DIFAT, the directory entries it visits, and
 * once the whole allocation table (1/128 of the file at most), to notice a truncated file.
 *
 * Every chain is bounded (by the sectors the file holds, by a stream's declared size) and checked for
 * loops, so a hostile file can neither make the reader loop forever nor allocate more than its size.
 */
import type { FileHandle } from "node:fs/promises";

/** A read the reader needs: fill `into` from byte `position` of the file. Answered with the bytes read. */
export interface ReadRequest {
  readonly into: Uint8Array;
  readonly position: number;
}

/** A computation over the file that yields the reads it needs and returns a T. */
export type Reads<T> = Generator<ReadRequest, T, number>;

/** Runs `task` against bytes already in memory. */
export function runOnBytes<T>(task: Reads<T>, bytes: Uint8Array): T {
  let step = task.next();
  while (!step.done) {
    const { into, position } = step.value;
    const chunk = bytes.subarray(position, position + into.length);
    into.set(chunk);
    step = task.next(chunk.length);
  }
  return step.value;
}

/** The file could not be read (an I/O error, not a problem with its content). */
export class CfbReadError extends Error {}

/** Runs `task` against an open file, calling `onRead` after each read. */
export async function runOnHandle<T>(
  task: Reads<T>,
  file: FileHandle,
  onRead?: (position: number, bytes: number) => void,
): Promise<T> {
  let step = task.next();
  while (!step.done) {
    const { into, position } = step.value;
    let done = 0;
    while (done < into.length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await file.read(into, done, into.length - done, position + done));
      } catch (cause) {
        throw new CfbReadError(String(cause), { cause });
      }
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    onRead?.(position, done);
    step = task.next(done);
  }
  return step.value;
}

/** A problem with the file's structure; its message completes "… is not a readable MSI: ". */
export class CfbFormatError extends Error {}

const SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const HEADER_SIZE = 512;
const HEADER_DIFAT = 109;
const MAX_REGULAR = 0xfffffffa; // sector numbers from here up are markers
const END_OF_CHAIN = 0xfffffffe;
const NO_STREAM = 0xffffffff;
const ENTRY_SIZE = 128;
const MINI_SECTOR = 64;
const MINI_CUTOFF = 4096;
const CACHED_SECTORS = 64;
const SCAN_BYTES = 64 * 1024;
/** Far more directory entries than any real package has; bounds the work a hostile directory causes. */
const MAX_ENTRIES = 1 << 20;

const STORAGE = 1;
const STREAM = 2;
const ROOT = 5;

interface DirectoryEntry {
  id: number;
  name: string;
  type: number;
  left: number;
  right: number;
  child: number;
  start: number;
  size: number;
}

/** A stream directly under the root storage. */
export interface CfbStream {
  /** The name as stored (UTF-16). */
  readonly name: string;
  readonly size: number;
  readonly entry: number;
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/**
 * A chain of sectors followed one link at a time and remembered, for the chains read piecemeal
 * (directory, mini allocation table, mini stream). At most `limit` sectors; a repeated sector is a loop.
 */
class LazyChain {
  private readonly sectors: number[] = [];
  private readonly seen = new Set<number>();
  private ended = false;

  constructor(
    private readonly file: CompoundFile,
    private readonly start: number,
    private readonly what: string,
    private readonly limit: number,
  ) {}

  /** The k-th sector of the chain, or undefined when the chain is shorter. */
  *at(k: number): Reads<number | undefined> {
    while (this.sectors.length <= k && !this.ended) {
      const last = this.sectors[this.sectors.length - 1];
      const next = last === undefined ? this.start : yield* this.file.next(last, this.what);
      if (next === END_OF_CHAIN) this.ended = true;
      else this.add(next);
    }
    return this.sectors[k];
  }

  private add(sector: number): void {
    this.file.checkSector(sector, this.what);
    if (this.seen.has(sector)) throw new CfbFormatError(`${this.what} loops back to sector ${sector}`);
    if (this.sectors.length >= this.limit)
      throw new CfbFormatError(`${this.what} is longer than the ${this.limit} sectors it can have`);
    this.seen.add(sector);
    this.sectors.push(sector);
  }
}

export class CompoundFile {
  private readonly sectorSize: number;
  private readonly perSector: number;
  /** Whole sectors after the header. */
  private readonly sectors: number;
  private readonly fatCount: number;
  private readonly headerFat: number[];
  private readonly miniFatStart: number;
  private readonly difatStart: number;
  private readonly difatSectors: number[] = [];
  private readonly wideSizes: boolean;
  private readonly cache = new Map<number, Uint8Array>();
  private readonly directory: LazyChain;
  private miniFat: LazyChain | undefined;
  private miniStream: { chain: LazyChain; size: number } | undefined;

  private constructor(
    private readonly size: number,
    header: Uint8Array,
  ) {
    const v = view(header);
    const shift = v.getUint16(30, true);
    if (shift !== 9 && shift !== 12)
      throw new CfbFormatError(`its compound-file header gives a sector size of 2^${shift}`);
    this.sectorSize = 1 << shift;
    this.perSector = this.sectorSize / 4;
    this.sectors = Math.max(0, Math.floor(size / this.sectorSize) - 1);
    this.wideSizes = v.getUint16(26, true) === 4; // version 4 sizes are 64-bit; version 3 uses the low half
    this.fatCount = v.getUint32(44, true);
    if (this.fatCount > this.sectors) {
      throw new CfbFormatError(
        `its header lists ${this.fatCount} allocation-table sectors, but the file holds ${this.sectors}`,
      );
    }
    this.headerFat = [];
    for (let i = 0; i < Math.min(this.fatCount, HEADER_DIFAT); i++) this.headerFat.push(v.getUint32(76 + i * 4, true));
    const directoryLimit = Math.min(this.sectors, Math.ceil((MAX_ENTRIES * ENTRY_SIZE) / this.sectorSize));
    this.directory = new LazyChain(this, v.getUint32(48, true), "its directory chain", directoryLimit);
    this.miniFatStart = v.getUint32(60, true);
    this.difatStart = v.getUint32(68, true);
  }

  /**
   * Reads the header and the allocation table's index (DIFAT), and checks that every sector the
   * allocation table uses lies inside the file, which is how a truncated file shows.
   */
  static *open(size: number): Reads<CompoundFile> {
    const header = new Uint8Array(Math.min(size, HEADER_SIZE));
    if (size > 0) yield* readExactly(header, 0);
    if (size < HEADER_SIZE || SIGNATURE.some((b, i) => header[i] !== b)) {
      throw new CfbFormatError(
        size === 0 ? "the file is empty" : "it is not an OLE compound file (wrong signature or too short)",
      );
    }
    const file = new CompoundFile(size, header);
    yield* file.checkComplete();
    return file;
  }

  private truncated(sector: number): CfbFormatError {
    return new CfbFormatError(
      `it is truncated (${this.size} bytes, but it uses sector ${sector}, which ends at ${(sector + 2) * this.sectorSize})`,
    );
  }

  /** Throws unless `sector` is a whole sector of the file. */
  checkSector(sector: number, what: string): void {
    if (sector < this.sectors) return;
    if (sector >= MAX_REGULAR) throw new CfbFormatError(`${what} is broken (it meets marker 0x${sector.toString(16)})`);
    if (sector < this.fatCount * this.perSector) throw this.truncated(sector);
    throw new CfbFormatError(`${what} refers to sector ${sector}, beyond the end of the file`);
  }

  private *checkComplete(): Reads<void> {
    const perDifat = this.perSector - 1;
    const needed = Math.ceil(Math.max(0, this.fatCount - HEADER_DIFAT) / perDifat);
    const seen = new Set<number>();
    for (let next = this.difatStart; this.difatSectors.length < needed;) {
      if (next >= MAX_REGULAR) throw new CfbFormatError("its allocation-table index (DIFAT) ends early");
      if (next >= this.sectors) throw this.truncated(next);
      if (seen.has(next)) throw new CfbFormatError(`its allocation-table index (DIFAT) loops back to sector ${next}`);
      seen.add(next);
      this.difatSectors.push(next);
      next = view(yield* this.sector(next)).getUint32(this.sectorSize - 4, true);
    }
    // Both ends of every link must be whole sectors of the file; otherwise it was cut short. This
    // reads the whole allocation table (1/128 of the file at most), a run of sectors at a time.
    const perRun = Math.max(1, SCAN_BYTES / this.sectorSize);
    const run = new Uint8Array(perRun * this.sectorSize);
    for (let k = 0; k < this.fatCount;) {
      const first = yield* this.fatSectorAt(k);
      if (first >= this.sectors) throw this.truncated(first);
      let n = 1;
      for (; n < perRun && k + n < this.fatCount; n++) {
        const at = yield* this.fatSectorAt(k + n);
        if (at >= this.sectors) throw this.truncated(at);
        if (at !== first + n) break;
      }
      const fat = view(run.subarray(0, n * this.sectorSize));
      yield* readExactly(run.subarray(0, n * this.sectorSize), (first + 1) * this.sectorSize);
      for (let i = 0; i < n * this.perSector; i++) {
        const next = fat.getUint32(i * 4, true);
        if (next >= MAX_REGULAR) continue; // free, end of chain, or a FAT/DIFAT marker
        if (k * this.perSector + i >= this.sectors) throw this.truncated(k * this.perSector + i);
        if (next >= this.sectors) throw this.truncated(next);
      }
      k += n;
    }
  }

  /** Where the k-th sector of the allocation table (FAT) lives. */
  private *fatSectorAt(k: number): Reads<number> {
    if (k < HEADER_DIFAT) return this.headerFat[k]!;
    const perDifat = this.perSector - 1;
    const d = k - HEADER_DIFAT;
    const difat = yield* this.sector(this.difatSectors[Math.floor(d / perDifat)]!);
    return view(difat).getUint32((d % perDifat) * 4, true);
  }

  /** The sector after `sector` in its chain, from the allocation table. */
  *next(sector: number, what: string): Reads<number> {
    const k = Math.floor(sector / this.perSector);
    if (k >= this.fatCount) throw new CfbFormatError(`${what} reaches sector ${sector}, past its allocation table`);
    const fat = yield* this.sector(yield* this.fatSectorAt(k));
    const next = view(fat).getUint32((sector % this.perSector) * 4, true);
    if (next !== END_OF_CHAIN) this.checkSector(next, what);
    return next;
  }

  /** One sector, through a small cache (allocation tables, directory, mini stream). */
  private *sector(n: number): Reads<Uint8Array> {
    const hit = this.cache.get(n);
    if (hit) {
      this.cache.delete(n);
      this.cache.set(n, hit);
      return hit;
    }
    if (n >= this.sectors) throw this.truncated(n);
    const bytes = new Uint8Array(this.sectorSize);
    yield* readExactly(bytes, (n + 1) * this.sectorSize);
    if (this.cache.size >= CACHED_SECTORS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(n, bytes);
    return bytes;
  }

  private *entry(id: number): Reads<DirectoryEntry> {
    const perSector = this.sectorSize / ENTRY_SIZE;
    const sector = yield* this.directory.at(Math.floor(id / perSector));
    if (sector === undefined) throw new CfbFormatError(`its directory refers to entry ${id}, past its end`);
    const bytes = (yield* this.sector(sector)).subarray(
      (id % perSector) * ENTRY_SIZE,
      ((id % perSector) + 1) * ENTRY_SIZE,
    );
    const v = view(bytes);
    const nameBytes = v.getUint16(0x40, true);
    if (nameBytes > 64 || nameBytes % 2 !== 0) throw new CfbFormatError(`its directory entry ${id} has a damaged name`);
    let name = "";
    for (let i = 0; i + 2 < nameBytes; i += 2) name += String.fromCharCode(v.getUint16(i, true));
    const low = v.getUint32(0x78, true);
    return {
      id,
      name,
      type: v.getUint8(0x42),
      left: v.getUint32(0x44, true),
      right: v.getUint32(0x48, true),
      child: v.getUint32(0x4c, true),
      start: v.getUint32(0x74, true),
      size: this.wideSizes ? v.getUint32(0x7c, true) * 0x1_0000_0000 + low : low,
    };
  }

  /** The streams directly under the root storage: the red-black tree of the root's children. */
  *rootStreams(): Reads<CfbStream[]> {
    const root = yield* this.entry(0);
    if (root.type !== ROOT) throw new CfbFormatError("its directory does not start with a root entry");
    if (root.size > this.size) throw new CfbFormatError(`its mini stream claims ${root.size} bytes`);
    this.miniStream = {
      chain: new LazyChain(this, root.start, "its mini stream chain", Math.ceil(root.size / this.sectorSize)),
      size: root.size,
    };
    const streams: CfbStream[] = [];
    const seen = new Set<number>();
    const pending = [root.child];
    while (pending.length > 0) {
      const id = pending.pop()!;
      if (id === NO_STREAM) continue;
      if (seen.has(id) || id === 0) throw new CfbFormatError(`its directory tree loops back to entry ${id}`);
      seen.add(id);
      const entry = yield* this.entry(id);
      if (entry.type !== STREAM && entry.type !== STORAGE)
        throw new CfbFormatError(`its directory tree refers to entry ${id}, which is not in use`);
      pending.push(entry.left, entry.right);
      if (entry.type === STREAM) streams.push({ name: entry.name, size: entry.size, entry: id });
    }
    return streams;
  }

  /** The whole content of a stream; `label` names it in messages, e.g. `stream "!Property"`. */
  *readStream(stream: CfbStream, label: string): Reads<Uint8Array> {
    const entry = yield* this.entry(stream.entry);
    const size = entry.size;
    if (size === 0) return new Uint8Array(0);
    if (size > this.size) throw new CfbFormatError(`${label} claims ${size} bytes, more than the whole file`);
    const mini = size < MINI_CUTOFF;
    const unit = mini ? MINI_SECTOR : this.sectorSize;
    const needed = Math.ceil(size / unit);
    const what = `the sector chain of ${label}`;
    const chain: number[] = [];
    const seen = new Set<number>();
    for (let at = entry.start; chain.length < needed;) {
      if (at === END_OF_CHAIN) {
        throw new CfbFormatError(`${label} holds ${chain.length * unit} of its ${size} bytes`);
      }
      if (!mini) this.checkSector(at, what);
      else if (at >= MAX_REGULAR) throw new CfbFormatError(`${what} is broken (it meets marker 0x${at.toString(16)})`);
      else if (at * MINI_SECTOR >= this.miniStream!.size)
        throw new CfbFormatError(`${what} uses mini sector ${at}, past the end of the mini stream`);
      if (seen.has(at)) throw new CfbFormatError(`${what} loops back to ${mini ? "mini sector" : "sector"} ${at}`);
      seen.add(at);
      chain.push(at);
      if (chain.length < needed) at = mini ? yield* this.nextMini(at, what) : yield* this.next(at, what);
    }
    const out = new Uint8Array(size);
    if (mini) {
      for (let i = 0; i < chain.length; i++) {
        const piece = yield* this.miniSector(chain[i]!, what);
        out.set(piece.subarray(0, Math.min(MINI_SECTOR, size - i * MINI_SECTOR)), i * MINI_SECTOR);
      }
      return out;
    }
    // Read runs of consecutive sectors straight into the result.
    for (let i = 0; i < chain.length;) {
      let j = i + 1;
      while (j < chain.length && chain[j] === chain[j - 1]! + 1) j++;
      const from = i * this.sectorSize;
      yield* readExactly(out.subarray(from, Math.min(size, j * this.sectorSize)), (chain[i]! + 1) * this.sectorSize);
      i = j;
    }
    return out;
  }

  /** The mini sector after `mini`, from the mini allocation table. */
  private *nextMini(mini: number, what: string): Reads<number> {
    this.miniFat ??= new LazyChain(this, this.miniFatStart, "its mini allocation-table chain", this.sectors);
    const sector = yield* this.miniFat.at(Math.floor(mini / this.perSector));
    if (sector === undefined)
      throw new CfbFormatError(`${what} reaches mini sector ${mini}, past its mini allocation table`);
    return view(yield* this.sector(sector)).getUint32((mini % this.perSector) * 4, true);
  }

  /** The 64 bytes of a mini sector, from the mini stream. */
  private *miniSector(mini: number, what: string): Reads<Uint8Array> {
    const stream = this.miniStream!;
    const offset = mini * MINI_SECTOR;
    if (offset >= stream.size)
      throw new CfbFormatError(`${what} uses mini sector ${mini}, past the end of the mini stream`);
    const sector = yield* stream.chain.at(Math.floor(offset / this.sectorSize));
    if (sector === undefined) throw new CfbFormatError(`its mini stream is shorter than its ${stream.size} bytes`);
    const within = offset % this.sectorSize;
    return (yield* this.sector(sector)).subarray(within, within + MINI_SECTOR);
  }
}

/** Yields one read and insists that it was answered in full. */
function* readExactly(into: Uint8Array, position: number): Reads<void> {
  const got = yield { into, position };
  if (got !== into.length) {
    throw new CfbFormatError(`it is truncated (it ended at byte ${position + got} while being read)`);
  }
}
