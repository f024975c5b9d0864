import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { mkdir, mkdtemp, open, readdir, realpath, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, extname, join, relative, resolve, isAbsolute, sep } from "node:path";
import { PublisherError } from "../core/errors.js";
import { Compressor, type CompressedFile } from "./compress.js";
import { mapFsError } from "./fs-errors.js";
import { crc32, crc32Combine } from "./crc32.js";
import { TOOL_VERSION, writeDetectionXml, type DetectionInfo, type MsiInfo } from "./detection-xml.js";
import { readMsi, type MsiMetadata } from "./msi.js";
import { PayloadWriter } from "./payload.js";
import { listSource, type SourceEntry } from "./source.js";
import { centralHeader, dosDateTime, endOfCentralDirectory, localHeader, type ZipEntry } from "./zip-format.js";

export const CONTENTS_FILE_NAME = "IntunePackage.intunewin";
const CONTENTS_ENTRY = `IntuneWinPackage/Contents/${CONTENTS_FILE_NAME}`;
const DETECTION_ENTRY = "IntuneWinPackage/Metadata/Detection.xml";
/** The official tool pads each outer local header's extra field to 28 bytes (a 0xA220 record). */
const OUTER_EXTRA_LENGTH = 28;
/**
 * Compressed bytes a file keeps in memory before spilling to a temporary file, and the look-ahead: files compressed
 * ahead of the writer, by count and by the memory their output may hold (each reserves up to the spill threshold).
 * Measured (bench/README.md): 4 MiB and 16 MiB kept up to five large files compressing at once, each holding 4 MiB,
 * for ≈ 35 MiB of buffers at the start of a run; with 1 MiB and 2 MiB two or three are, and both deflate jobs stay
 * busy (two jobs run at once on the thread pool, whatever the look-ahead).
 */
const SPILL_THRESHOLD = 1024 * 1024;
const LOOKAHEAD_BYTES = 2 * 1024 * 1024;
const LOOKAHEAD_FILES = 64;

export interface PackageOptions {
  sourceDir: string;
  /** The setup file: a path relative to the source folder, or an absolute path inside it. */
  setupFile: string;
  outDir: string;
  signal?: AbortSignal;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Parallel deflate jobs; defaults to the number of CPUs (at least 2). */
  concurrency?: number;
  chunkSize?: number;
  spillThreshold?: number;
}

export interface PackageResult {
  path: string;
  setupFile: string;
  name: string;
  fileCount: number;
  unencryptedContentSize: number;
  encryptedSize: number;
  fileDigest: string;
  detection: DetectionInfo;
  msi?: MsiMetadata;
}

function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

async function existingRealpath(p: string): Promise<string> {
  // realpath of the nearest existing ancestor, with the rest appended: where `p` will really be.
  try {
    return await realpath(p);
  } catch {
    const parent = dirname(p);
    if (parent === p) return p;
    return join(await existingRealpath(parent), basename(p));
  }
}

interface Resolved {
  source: string;
  setupAbs: string;
  setupRel: string;
  outDir: string;
}

async function resolveInputs(o: PackageOptions): Promise<Resolved> {
  const source = resolve(o.sourceDir);
  let st;
  try {
    st = await stat(source);
  } catch {
    throw new PublisherError("SourceNotFound", `The source folder "${o.sourceDir}" does not exist.`, {
      hint: "Pass --source the folder that holds the setup file and everything it needs.",
    });
  }
  if (!st.isDirectory()) {
    throw new PublisherError("SourceNotAFolder", `The source "${o.sourceDir}" is a file, not a folder.`, {
      hint: "Pass --source the folder that holds the setup file, and --setup the file's name.",
    });
  }
  if ((await readdir(source)).length === 0) {
    throw new PublisherError("SourceEmpty", `The source folder "${o.sourceDir}" is empty.`, {
      hint: "Put the setup file and the files it needs in the source folder.",
    });
  }
  const sourceReal = await realpath(source);
  const setupAbs = resolve(source, o.setupFile);
  let setupReal: string;
  try {
    setupReal = await realpath(setupAbs);
  } catch {
    throw new PublisherError("SetupNotFound", `The setup file "${o.setupFile}" is not in "${o.sourceDir}".`, {
      hint: "Pass --setup a file that exists in the source folder (a name relative to it, e.g. setup.exe).",
    });
  }
  if (!isInside(sourceReal, setupReal) || setupReal === sourceReal) {
    throw new PublisherError("SetupOutsideSource", `The setup file "${o.setupFile}" is outside the source folder.`, {
      hint: "Move the setup file into the source folder: Intune runs it from the extracted package.",
    });
  }
  if (!(await stat(setupReal)).isFile()) {
    throw new PublisherError("SetupNotAFile", `The setup file "${o.setupFile}" is not a file.`, {
      hint: "Pass --setup the installer file itself (e.g. setup.exe, install.ps1 or product.msi).",
    });
  }
  const outDir = resolve(o.outDir);
  if (isInside(sourceReal, await existingRealpath(outDir))) {
    throw new PublisherError("OutputInsideSource", `The output folder "${o.outDir}" is inside the source folder.`, {
      hint: "Choose an output folder outside the source folder, or the package would try to include itself.",
    });
  }
  return { source, setupAbs, setupRel: relative(sourceReal, setupReal).split(sep).join("\\"), outDir };
}

function msiInfoOf(m: MsiMetadata): MsiInfo {
  return {
    MsiProductCode: m.productCode,
    MsiProductVersion: m.productVersion,
    MsiPackageCode: m.packageCode,
    MsiUpgradeCode: m.upgradeCode ?? "",
    MsiExecutionContext: m.executionContext,
    MsiRequiresLogon: m.requiresLogon,
    MsiRequiresReboot: m.requiresReboot,
    MsiIsMachineInstall: m.isMachineInstall,
    MsiIsUserInstall: m.isUserInstall,
    MsiIncludesServices: m.includesServices,
    MsiIncludesODBCDataSource: m.includesOdbcDataSource,
    MsiContainsSystemRegistryKeys: m.containsSystemRegistryKeys,
    MsiContainsSystemFolders: m.containsSystemFolders,
    MsiPublisher: m.manufacturer,
  };
}

/**
 * Packages a setup folder into `<out>/<setup base name>.intunewin` in the official tool's format, streaming:
 * files are deflated in parallel, and the inner zip is encrypted, MACed and hashed in one pass straight into
 * the outer zip. Output goes to a temporary name and is renamed only when complete.
 */
export async function packageFolder(options: PackageOptions): Promise<PackageResult> {
  try {
    return await packageFolderUnmapped(options);
  } catch (e) {
    throw mapFsError(e);
  }
}

async function packageFolderUnmapped(options: PackageOptions): Promise<PackageResult> {
  const signal = options.signal ?? new AbortController().signal;
  const r = await resolveInputs(options);
  const entries = await listSource(r.source);
  const setupName = basename(r.setupAbs);
  const msi = extname(setupName).toLowerCase() === ".msi" ? await readMsi(r.setupAbs) : undefined;
  const outputName = basename(setupName, extname(setupName)) + ".intunewin";

  await mkdir(r.outDir, { recursive: true });
  const finalPath = join(r.outDir, outputName);
  const tempPath = join(r.outDir, `.${outputName}.${randomBytes(6).toString("hex")}.partial`);
  const spillDir = await mkdtemp(join(r.outDir, ".intunewin-spill-"));
  const fh = await open(tempPath, "wx", 0o600);
  let done = false;
  try {
    const detection = await writePackage(fh, entries, {
      name: msi?.productName ?? setupName,
      setupFile: r.setupRel,
      msiInfo: msi ? msiInfoOf(msi) : undefined,
      signal,
      spillDir,
      options,
    });
    await fh.close();
    await rename(tempPath, finalPath);
    done = true;
    const encryptedSize = 48 + 16 * Math.floor(detection.UnencryptedContentSize / 16) + 16;
    const result: PackageResult = {
      path: finalPath,
      setupFile: detection.SetupFile,
      name: detection.Name,
      fileCount: entries.filter((e) => e.kind === "file").length,
      unencryptedContentSize: detection.UnencryptedContentSize,
      encryptedSize,
      fileDigest: detection.EncryptionInfo.FileDigest,
      detection,
    };
    if (msi) result.msi = msi;
    return result;
  } finally {
    if (!done) {
      await fh.close().catch(() => {});
      await rm(tempPath, { force: true });
    }
    await rm(spillDir, { recursive: true, force: true });
  }
}

interface WriteContext {
  name: string;
  setupFile: string;
  msiInfo: MsiInfo | undefined;
  signal: AbortSignal;
  spillDir: string;
  options: PackageOptions;
}

async function writePackage(fh: FileHandle, entries: SourceEntry[], w: WriteContext): Promise<DetectionInfo> {
  const now = dosDateTime(new Date());
  const outerContents = outerEntry(CONTENTS_ENTRY, now, Buffer.alloc(0), 0);
  // Placeholder header: rewritten in place once the payload's size and CRC are known.
  const placeholder = outerLocalHeader(outerContents);
  await fh.write(placeholder, 0, placeholder.length, 0);
  const payloadOffset = placeholder.length;

  const key = randomBytes(32);
  const macKey = randomBytes(32);
  const iv = randomBytes(16);
  const payload = new PayloadWriter(fh, payloadOffset, key, macKey, iv);
  let p;
  try {
    await writeInnerZip(payload, entries, w);
    p = await payload.finish();
  } finally {
    await payload.close();
  }

  const payloadSize = 48 + p.ciphertextSize;
  outerContents.crc = crc32Combine(crc32(p.mac), p.crcOfIvAndCiphertext, 16 + p.ciphertextSize);
  outerContents.compressedSize = outerContents.uncompressedSize = payloadSize;
  const header = outerLocalHeader(outerContents);
  await fh.write(header, 0, header.length, 0);

  const detection: DetectionInfo = {
    ToolVersion: TOOL_VERSION,
    Name: w.name,
    UnencryptedContentSize: p.plaintextSize,
    FileName: CONTENTS_FILE_NAME,
    SetupFile: w.setupFile,
    EncryptionInfo: {
      EncryptionKey: key.toString("base64"),
      MacKey: macKey.toString("base64"),
      InitializationVector: iv.toString("base64"),
      Mac: p.mac.toString("base64"),
      ProfileIdentifier: "ProfileVersion1",
      FileDigest: p.fileDigest.toString("base64"),
      FileDigestAlgorithm: "SHA256",
    },
  };
  if (w.msiInfo) detection.MsiInfo = w.msiInfo;
  const xml = writeDetectionXml(detection);
  const detectionEntry = outerEntry(DETECTION_ENTRY, now, xml, payloadOffset + payloadSize);
  const buf = outerZipTail(outerContents, detectionEntry, xml);
  await fh.write(buf, 0, buf.length, detectionEntry.localHeaderOffset);
  return detection;
}

/** An outer zip entry as System.IO.Packaging writes it: stored, version 1.0 needed, made by 4.5 on FAT. */
export function outerEntry(
  name: string,
  time: { dosTime: number; dosDate: number },
  data: Buffer,
  offset: number,
): ZipEntry {
  return {
    name: Buffer.from(name, "utf8"),
    method: 0,
    flags: 0,
    crc: crc32(data),
    compressedSize: data.length,
    uncompressedSize: data.length,
    ...time,
    versionMadeBy: 45,
    versionNeeded: 10,
    localHeaderOffset: offset,
  };
}

/** The outer zip's padded local header for the payload entry. */
export function outerLocalHeader(entry: ZipEntry): Buffer {
  return localHeader(entry, { padTo: OUTER_EXTRA_LENGTH });
}

/** Everything after the payload: Detection.xml's entry, the central directory and the end record. */
export function outerZipTail(contents: ZipEntry, detection: ZipEntry, xml: Buffer): Buffer {
  const header = outerLocalHeader(detection);
  const cd = Buffer.concat([centralHeader(contents), centralHeader(detection)]);
  const cdOffset = detection.localHeaderOffset + header.length + xml.length;
  return Buffer.concat([header, xml, cd, endOfCentralDirectory(2, cd.length, cdOffset)]);
}

/** Inner zip entries as the official tool writes them: version 20, UTF-8 flag, FAT host, no extra fields. */
function innerEntry(e: SourceEntry, offset: number, c?: CompressedFile): ZipEntry {
  return {
    name: Buffer.from(e.zipName, "utf8"),
    method: c?.method ?? 0,
    flags: 0x0800,
    crc: c?.crc ?? 0,
    compressedSize: c?.compressedSize ?? 0,
    uncompressedSize: c?.uncompressedSize ?? 0,
    ...dosDateTime(e.mtime),
    versionMadeBy: 20,
    versionNeeded: 20,
    localHeaderOffset: offset,
  };
}

async function writeInnerZip(out: PayloadWriter, entries: SourceEntry[], w: WriteContext): Promise<void> {
  const total = entries.reduce((n, e) => n + e.size, 0);
  let read = 0;
  const concurrency = w.options.concurrency ?? Math.max(2, availableParallelism());
  // Stops the compressor's in-flight work when writing fails or the caller aborts.
  const stop = new AbortController();
  const signal = AbortSignal.any([w.signal, stop.signal]);
  const spillThreshold = w.options.spillThreshold ?? SPILL_THRESHOLD;
  const compressor = new Compressor({
    concurrency,
    chunkSize: w.options.chunkSize ?? 1024 * 1024,
    spillThreshold,
    spillDir: w.spillDir,
    signal,
    onRead: (n) => {
      read += n;
      w.options.onProgress?.(read, total);
    },
  });
  // Files are compressed ahead of the writer, bounded by a count and by the memory their output may hold.
  const lookaheadFiles = LOOKAHEAD_FILES;
  const lookaheadBytes = LOOKAHEAD_BYTES;
  const started = new Map<number, Promise<CompressedFile>>();
  let next = 0;
  let reserved = 0;
  const reserve = (e: SourceEntry): number => Math.min(e.size, spillThreshold);
  const startMore = (current: number): void => {
    while (
      next < entries.length &&
      (next === current || (started.size < lookaheadFiles && reserved < lookaheadBytes))
    ) {
      const e = entries[next]!;
      if (e.kind === "file") {
        const job = compressor.compress(e);
        job.catch(() => {}); // awaited in order below
        started.set(next, job);
        reserved += reserve(e);
      }
      next++;
    }
  };

  const central: ZipEntry[] = [];
  let offset = 0;
  try {
    for (let i = 0; i < entries.length; i++) {
      w.signal.throwIfAborted();
      startMore(i);
      const e = entries[i]!;
      if (e.kind === "emptyDir") {
        const z = innerEntry(e, offset);
        const h = localHeader(z);
        await out.write(h);
        offset += h.length;
        central.push(z);
        continue;
      }
      const c = await started.get(i)!;
      started.delete(i);
      reserved -= reserve(e);
      const z = innerEntry(e, offset, c);
      const h = localHeader(z);
      await out.write(h);
      offset += h.length;
      for await (const chunk of c.read()) {
        await out.write(chunk);
        offset += chunk.length;
      }
      await c.dispose();
      central.push(z);
    }
  } catch (e) {
    stop.abort();
    const pending = [...started.values()];
    await Promise.allSettled(pending.map(async (p) => (await p).dispose()));
    throw e;
  }
  const cdOffset = offset;
  let cdSize = 0;
  for (const z of central) {
    const h = centralHeader(z);
    await out.write(h);
    cdSize += h.length;
  }
  await out.write(endOfCentralDirectory(central.length, cdSize, cdOffset));
}
