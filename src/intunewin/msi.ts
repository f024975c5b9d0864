/**
 * Reads the facts Intune needs from a Windows Installer package (.msi): the Property table, the
 * Summary Information, and the few tables behind Detection.xml's <MsiInfo>.
 *
 * Hand-written because no maintained npm package reads MSI tables in pure JavaScript (those on npm
 * build installers or call msiinfo/msiexec), and this tool must run on any OS without native tools.
 * ./cfb-reader.ts opens the OLE compound file, reading only the streams used here; the MSI layer inside
 * it (compressed stream names, string pool, column-wise tables, summary property set) is implemented
 * here from the formats' public descriptions. Memory use does not grow with the package's size: the
 * cabinets that make up most of a large MSI are never read.
 */
import { PublisherError } from "../core/errors.js";
import { formatLimit, openRegularFile } from "../platform/fs.js";
import { CfbFormatError, CfbReadError, CompoundFile, runOnBytes, runOnHandle, type Reads } from "./cfb-reader.js";

export interface MsiMetadata {
  productCode: string;
  productVersion: string;
  productName: string;
  manufacturer: string;
  upgradeCode: string | undefined;
  /** Summary Information PID 9, "Revision Number". */
  packageCode: string;
  /** Property ALLUSERS as stored; undefined when absent. */
  allUsers: string | undefined;
  msiInstallPerUser: string | undefined;
  /** Summary Information PID 7, e.g. "Intel;1033" or "x64;1033". */
  template: string;
  architecture: "x86" | "x64" | "arm64" | "arm" | "ia64" | "neutral";
  /** Language part of the template, e.g. "1033" or "1033,1031". */
  languages: string;
  /** The whole Property table. */
  properties: Record<string, string>;
  // The facts that fill Detection.xml's <MsiInfo>.
  executionContext: "System" | "User" | "Any";
  requiresLogon: boolean;
  requiresReboot: boolean;
  isMachineInstall: boolean;
  isUserInstall: boolean;
  includesServices: boolean;
  includesOdbcDataSource: boolean;
  containsSystemRegistryKeys: boolean;
  containsSystemFolders: boolean;
}

export interface ReadMsiOptions {
  /** Called after each read from the file (for tests and diagnostics). */
  onRead?: (position: number, bytes: number) => void;
}

/** Reads the package's metadata from a file, fetching only the few streams it needs. */
export async function readMsi(path: string, options: ReadMsiOptions = {}): Promise<MsiMetadata> {
  // A regular file only, opened without blocking: a FIFO or device is refused at once (input, exit 9).
  const { handle: file, stats } = await openRegularFile({ path, what: "MSI" });
  try {
    return readPackage(await runOnHandle(loadStreams(stats.size), file, options.onRead));
  } catch (cause) {
    throw cause instanceof CfbReadError ? unreadable(path, cause.cause) : corrupt(path, cause);
  } finally {
    await file.close();
  }
}

/** Same from bytes already in memory. */
export function parseMsi(bytes: Uint8Array, displayName = "MSI data"): MsiMetadata {
  try {
    return readPackage(runOnBytes(loadStreams(bytes.length), bytes));
  } catch (cause) {
    throw corrupt(displayName, cause);
  }
}

function unreadable(path: string, cause: unknown): PublisherError {
  const reason = (cause as NodeJS.ErrnoException).code ?? String(cause);
  return new PublisherError("MsiUnreadable", `Cannot read the MSI "${path}" (${reason}).`, {
    hint: "Check that the path names an existing, readable .msi file.",
    cause,
  });
}

/** A problem with the package's content becomes MsiCorrupt; anything else is a bug here and passes through. */
function corrupt(displayName: string, cause: unknown): unknown {
  // RangeError: a DataView read ran past the end of a stream.
  if (!(cause instanceof MsiFormatError || cause instanceof CfbFormatError || cause instanceof RangeError))
    return cause;
  const problem = cause instanceof RangeError ? "a structure in it runs past the end of its stream" : cause.message;
  return new PublisherError("MsiCorrupt", `"${displayName}" is not a readable MSI: ${problem}.`, {
    hint: "Make sure the file is a complete Windows Installer package: download or build it again.",
    cause,
  });
}

/** A problem with the package's content; its message completes "… is not a readable MSI: ". */
class MsiFormatError extends Error {}

// ---- Compound file and stream names ----

const NAME_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";

/** MSI packs stream names: one UTF-16 unit holds two alphabet characters, one, or the table prefix "!". */
function decodeStreamName(name: string): string {
  let out = "";
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (c >= 0x3800 && c < 0x4800)
      out += NAME_ALPHABET[(c - 0x3800) & 0x3f]! + NAME_ALPHABET[((c - 0x3800) >> 6) & 0x3f]!;
    else if (c >= 0x4800 && c < 0x4840) out += NAME_ALPHABET[c - 0x4800]!;
    else if (c === 0x4840) out += "!";
    else out += ch;
  }
  return out;
}

/** The tables read below; only their streams are loaded. */
const TABLES = [
  "Property",
  "InstallExecuteSequence",
  "Registry",
  "Directory",
  "ServiceInstall",
  "ODBCDataSource",
] as const;
type TableName = (typeof TABLES)[number];
const SUMMARY = "\x05SummaryInformation";
const WANTED = new Set<string>([
  "!_StringPool",
  "!_StringData",
  "!_Tables",
  "!_Columns",
  SUMMARY,
  ...TABLES.map((t) => "!" + t),
]);

/**
 * Far more than any real package holds (a 100,000-row Registry table is about 2 MiB): the most one stream read
 * into memory, and all of them together, may claim. Checked on the directory before anything is read.
 */
export const MAX_MSI_STREAM_BYTES = 64 * 1024 * 1024;
export const MAX_MSI_TABLE_BYTES = 128 * 1024 * 1024;

/** The streams this reader uses, by decoded name; the others (cabinets, binaries) are never read. */
function* loadStreams(size: number): Reads<Map<string, Uint8Array>> {
  const file = yield* CompoundFile.open(size);
  const wanted = (yield* file.rootStreams()).flatMap((stream) => {
    const name = decodeStreamName(stream.name);
    return WANTED.has(name) ? [{ name, stream }] : [];
  });
  for (const { name, stream } of wanted) {
    if (stream.size > MAX_MSI_STREAM_BYTES) {
      throw new MsiFormatError(
        `its stream ${JSON.stringify(name)} claims ${stream.size} bytes, over the limit of ` +
          `${formatLimit(MAX_MSI_STREAM_BYTES)} for one table`,
      );
    }
  }
  const total = wanted.reduce((sum, { stream }) => sum + stream.size, 0);
  if (total > MAX_MSI_TABLE_BYTES) {
    throw new MsiFormatError(
      `its tables claim ${total} bytes, over the limit of ${formatLimit(MAX_MSI_TABLE_BYTES)} for all of them`,
    );
  }
  const streams = new Map<string, Uint8Array>();
  for (const { name, stream } of wanted) {
    streams.set(name, yield* file.readStream(stream, `stream ${JSON.stringify(name)}`));
  }
  return streams;
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

type Decode = (bytes: Uint8Array) => string;

/** Windows-1252 is Latin-1 except for 0x80-0x9F, which hold these characters (WHATWG index). */
const WINDOWS_1252_C1 =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

/**
 * A decoder for a Windows code page; 0 (CP_ACP) is taken as 1252. 1252 is decoded here because
 * Node 20.18.3+ and 22.13+ decode TextDecoder("windows-1252") as Latin-1 (nodejs/node#56542).
 */
function decoderFor(codepage: number, where: string): Decode {
  if (codepage === 0 || codepage === 1252) {
    return (b) =>
      Buffer.from(b.buffer, b.byteOffset, b.byteLength)
        .toString("latin1")
        .replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!);
  }
  const labels: Record<number, string> = {
    932: "shift_jis",
    936: "gbk",
    949: "euc-kr",
    950: "big5",
    1200: "utf-16le",
    65001: "utf-8",
  };
  try {
    const decoder = new TextDecoder(labels[codepage] ?? `windows-${codepage}`);
    return (b) => decoder.decode(b);
  } catch {
    throw new MsiFormatError(`its ${where} uses code page ${codepage}, which this reader cannot decode`);
  }
}

// ---- String pool ----

interface StringPool {
  /** The string of an id; id 0 is the null string; undefined past the pool. Decoded when first asked for. */
  string(id: number): string | undefined;
  /** Bytes per string reference in tables: 3 when the pool header sets bit 31 ("long string refs"). */
  refWidth: 2 | 3;
}

/**
 * `_StringPool` is a uint32 header (code page, bit 31 = long string refs), then one (uint16 length,
 * uint16 refcount) entry per string id. A string of 64 KiB or more takes two entries, the first with
 * length 0 and a non-zero second word. Public descriptions disagree on which second word holds the
 * length's high part, so we take the reading whose lengths add up to the size of `_StringData`.
 * Lengths are kept as offsets in a typed array and strings decoded on demand: memory stays within the
 * streams' own size, however many strings a pool lists.
 */
function readStringPool(pool: Uint8Array, data: Uint8Array): StringPool {
  if (pool.length < 4 || pool.length % 4 !== 0) throw new MsiFormatError("its string pool (_StringPool) is damaged");
  const header = view(pool).getUint32(0, true);
  const decode = decoderFor(header & 0x7fffffff, "string pool");
  let offsets = stringOffsets(pool, true);
  if (offsets[offsets.length - 1] !== data.length) {
    const other = stringOffsets(pool, false);
    if (other[other.length - 1] === data.length) offsets = other;
  }
  const total = offsets[offsets.length - 1]!;
  if (total > data.length) {
    throw new MsiFormatError(`its string pool lists ${total} bytes of text but _StringData has ${data.length}`);
  }
  const cache = new Map<number, string>();
  return {
    string(id) {
      if (id === 0) return "";
      if (id >= offsets.length) return undefined;
      let s = cache.get(id);
      if (s === undefined) {
        s = decode(data.subarray(offsets[id - 1]!, offsets[id]!));
        cache.set(id, s);
      }
      return s;
    },
    refWidth: header & 0x80000000 ? 3 : 2,
  };
}

/** Where each string ends in `_StringData`: entry i is the end of string id i (entry 0 is 0). */
function stringOffsets(pool: Uint8Array, highWordFirst: boolean): Float64Array {
  const v = view(pool);
  const ends = new Float64Array(pool.length / 4);
  let count = 1;
  for (let at = 4; at < pool.length; count++) {
    const length = v.getUint16(at, true);
    const second = v.getUint16(at + 2, true);
    let n = length;
    if (length === 0 && second !== 0) {
      if (at + 8 > pool.length) throw new MsiFormatError("its string pool (_StringPool) ends inside an entry");
      const high = highWordFirst ? second : v.getUint16(at + 6, true);
      n = high * 0x10000 + v.getUint16(at + 4, true);
      at += 8;
    } else {
      at += 4;
    }
    ends[count] = ends[count - 1]! + n;
  }
  return ends.subarray(0, count);
}

// ---- Tables ----

type Cell = string | number | null;

interface Column {
  name: string;
  kind: "string" | "int" | "stream";
  width: number;
}

/** Decodes a `_Columns` Type: 0x0800 string (0x0C00) or stream (0x0800 alone), else an integer of (type & 0xFF) bytes. */
function columnOf(name: string, type: number, refWidth: number): Column {
  if (type & 0x0800)
    return (type & 0x0c00) === 0x0c00 ? { name, kind: "string", width: refWidth } : { name, kind: "stream", width: 2 };
  return { name, kind: "int", width: (type & 0xff) <= 2 ? 2 : 4 };
}

/**
 * A table stream holds each column in turn, every row's value for it. Integers are stored with the
 * sign bit flipped and 0 meaning null; strings are string-pool ids, 0 meaning null.
 */
function readColumns(table: string, stream: Uint8Array, columns: Column[], pool: StringPool): Map<string, Cell[]> {
  const rowSize = columns.reduce((n, c) => n + c.width, 0);
  if (rowSize === 0 || stream.length % rowSize !== 0) {
    throw new MsiFormatError(`table ${table} holds ${stream.length} bytes, not a whole number of ${rowSize}-byte rows`);
  }
  const rows = stream.length / rowSize;
  const v = view(stream);
  const out = new Map<string, Cell[]>();
  let at = 0;
  for (const column of columns) {
    const values: Cell[] = [];
    for (let r = 0; r < rows; r++, at += column.width) {
      const raw =
        column.width === 2
          ? v.getUint16(at, true)
          : column.width === 3
            ? v.getUint16(at, true) | (v.getUint8(at + 2) << 16)
            : v.getUint32(at, true);
      if (raw === 0 || column.kind === "stream") values.push(null);
      else if (column.kind === "int") values.push(raw - (column.width === 2 ? 0x8000 : 0x80000000));
      else {
        const s = pool.string(raw);
        if (s === undefined) throw new MsiFormatError(`table ${table} refers to string ${raw}, beyond the string pool`);
        values.push(s);
      }
    }
    out.set(column.name, values);
  }
  return out;
}

interface Database {
  /** The table's columns by name, or undefined when the package has no such table. */
  table(name: TableName): Map<string, Cell[]> | undefined;
}

function openDatabase(streams: Map<string, Uint8Array>): Database {
  const stream = (name: string): Uint8Array => {
    const s = streams.get(name);
    if (!s) throw new MsiFormatError(`it has no ${name} stream, so it is not a Windows Installer database`);
    return s;
  };
  const pool = readStringPool(stream("!_StringPool"), stream("!_StringData"));
  const str = (name: string): Column => columnOf(name, 0x0d00, pool.refWidth);
  const i2 = (name: string): Column => columnOf(name, 0x0502, pool.refWidth);

  const tableNames = new Set(readColumns("_Tables", stream("!_Tables"), [str("Name")], pool).get("Name"));
  const cols = readColumns(
    "_Columns",
    stream("!_Columns"),
    [str("Table"), i2("Number"), str("Name"), i2("Type")],
    pool,
  );
  const schemas = new Map<string, { number: number; column: Column }[]>();
  cols.get("Table")!.forEach((table, r) => {
    const number = cols.get("Number")![r];
    const name = cols.get("Name")![r];
    const type = cols.get("Type")![r];
    if (
      typeof table !== "string" ||
      typeof number !== "number" ||
      typeof name !== "string" ||
      typeof type !== "number"
    ) {
      throw new MsiFormatError("its column catalogue (_Columns) has an incomplete row");
    }
    const list = schemas.get(table) ?? [];
    list.push({ number, column: columnOf(name, type & 0xffff, pool.refWidth) });
    schemas.set(table, list);
  });

  const tables = new Map<string, Map<string, Cell[]>>();
  return {
    table(name) {
      if (!tableNames.has(name)) return undefined;
      let table = tables.get(name);
      if (!table) {
        const schema = schemas.get(name);
        if (!schema) throw new MsiFormatError(`table ${name} has no columns in _Columns`);
        const columns = schema.sort((a, b) => a.number - b.number).map((c) => c.column);
        // A table without rows may have no stream at all.
        table = readColumns(name, streams.get("!" + name) ?? new Uint8Array(0), columns, pool);
        tables.set(name, table);
      }
      return table;
    },
  };
}

// ---- Summary Information ----

/**
 * `\x05SummaryInformation` is an OLE property set: a 48-byte header whose last field is the offset of
 * the section, then the section (size, count, then (PID, offset) pairs). PID 1 is the code page (VT_I2);
 * PID 7 (Template) and PID 9 (Revision Number) are VT_LPSTR: a byte count, then NUL-terminated text.
 */
function readSummary(stream: Uint8Array | undefined): { template: string; revision: string } {
  if (!stream) throw new MsiFormatError("it has no Summary Information stream");
  const v = view(stream);
  if (v.getUint16(0, true) !== 0xfffe) throw new MsiFormatError("its Summary Information has a wrong byte-order mark");
  const section = v.getUint32(44, true);
  const offsets = new Map<number, number>();
  const count = v.getUint32(section + 4, true);
  for (let i = 0; i < count; i++) {
    offsets.set(v.getUint32(section + 8 + i * 8, true), section + v.getUint32(section + 12 + i * 8, true));
  }
  const typeAt = (at: number): number => v.getUint16(at, true);
  const cpAt = offsets.get(1);
  const codepage = cpAt !== undefined && typeAt(cpAt) === 2 ? v.getUint16(cpAt + 4, true) : 0;
  const decode = decoderFor(codepage, "Summary Information");
  const text = (pid: number, label: string): string => {
    const at = offsets.get(pid);
    if (at === undefined || typeAt(at) !== 30) throw new MsiFormatError(`its Summary Information has no ${label}`);
    const size = v.getUint32(at + 4, true);
    if (at + 8 + size > stream.length) throw new MsiFormatError(`its Summary Information ${label} is truncated`);
    return decode(stream.subarray(at + 8, at + 8 + size)).split("\0")[0]!;
  };
  return { template: text(7, "Template (PID 7)"), revision: text(9, "Revision Number (PID 9)") };
}

const ARCHITECTURES = new Map<string, MsiMetadata["architecture"]>([
  ["", "neutral"],
  ["intel", "x86"],
  ["x64", "x64"],
  ["amd64", "x64"],
  ["arm64", "arm64"],
  ["arm", "arm"],
  ["intel64", "ia64"],
]);

// ---- The package ----

/**
 * Folders that always live outside the user's profile, and the shell folders that Windows Installer
 * points at the all-users locations in a per-machine install.
 */
const SYSTEM_FOLDERS = new Set([
  "ProgramFilesFolder",
  "ProgramFiles64Folder",
  "CommonFilesFolder",
  "CommonFiles64Folder",
  "SystemFolder",
  "System16Folder",
  "System64Folder",
  "WindowsFolder",
  "WindowsVolume",
  "CommonAppDataFolder",
  "FontsFolder",
]);
const ALLUSERS_FOLDERS = new Set([
  "DesktopFolder",
  "ProgramMenuFolder",
  "StartMenuFolder",
  "StartupFolder",
  "AdminToolsFolder",
  "TemplateFolder",
]);

function readPackage(streams: Map<string, Uint8Array>): MsiMetadata {
  const db = openDatabase(streams);

  const propertyTable = db.table("Property");
  if (!propertyTable) throw new MsiFormatError("it has no Property table");
  const values = propertyTable.get("Value") ?? [];
  // fromEntries defines own properties, so even a property named "__proto__" is kept.
  const properties: Record<string, string> = Object.fromEntries(
    (propertyTable.get("Property") ?? []).flatMap((name, r) =>
      typeof name === "string" ? [[name, String(values[r] ?? "")]] : [],
    ),
  );
  const prop = (name: string): string | undefined => (Object.hasOwn(properties, name) ? properties[name] : undefined);
  // Windows Installer refuses a package without these; so do we.
  const required = (name: string): string => {
    const value = prop(name);
    if (!value) throw new MsiFormatError(`its Property table has no ${name}`);
    return value;
  };

  const { template, revision } = readSummary(streams.get(SUMMARY));
  const split = template.indexOf(";");
  const platform = split < 0 ? template : template.slice(0, split);
  const architecture = ARCHITECTURES.get(platform.trim().toLowerCase());
  if (!architecture)
    throw new MsiFormatError(`its Template names platform "${platform}", which Windows Installer does not know`);
  if (!revision) throw new MsiFormatError("its Summary Information has an empty Revision Number (PackageCode)");

  // Microsoft does not publish how IntuneWinAppUtil derives <MsiInfo>; the rules below are ours.
  // ALLUSERS=1: per-machine; 2: dual-purpose, either; absent or empty: per-user.
  const allUsers = prop("ALLUSERS");
  const executionContext = allUsers === "1" ? "System" : allUsers === "2" ? "Any" : "User";
  const isMachineInstall = executionContext !== "User";
  const isUserInstall = executionContext !== "System";

  const column = (table: TableName, name: string): Cell[] => db.table(table)?.get(name) ?? [];
  const rowCount = (table: TableName): number => db.table(table)?.values().next().value?.length ?? 0;
  const reboot = prop("REBOOT");
  const requiresReboot =
    reboot?.toLowerCase() === "force" ||
    column("InstallExecuteSequence", "Action").some((a) => a === "ScheduleReboot" || a === "ForceReboot");
  // Registry roots: 2 HKLM and 3 HKU always need the machine; 0 HKCR and -1 (HKLM or HKCU by ALLUSERS)
  // go to the machine hive in a per-machine install; 1 HKCU never does.
  const containsSystemRegistryKeys = column("Registry", "Root").some(
    (root) => root === 2 || root === 3 || (isMachineInstall && (root === 0 || root === -1)),
  );
  const isSystemFolder = (d: Cell): boolean =>
    typeof d === "string" && (SYSTEM_FOLDERS.has(d) || (isMachineInstall && ALLUSERS_FOLDERS.has(d)));
  const containsSystemFolders = column("Directory", "Directory").some(isSystemFolder);

  return {
    productCode: required("ProductCode"),
    productVersion: required("ProductVersion"),
    productName: required("ProductName"),
    manufacturer: required("Manufacturer"),
    upgradeCode: prop("UpgradeCode"),
    packageCode: revision,
    allUsers,
    msiInstallPerUser: prop("MSIINSTALLPERUSER"),
    template,
    architecture,
    languages: split < 0 ? "" : template.slice(split + 1),
    properties,
    executionContext,
    requiresLogon: false, // no known rule makes an MSI need a logged-on user
    requiresReboot,
    isMachineInstall,
    isUserInstall,
    includesServices: rowCount("ServiceInstall") > 0,
    includesOdbcDataSource: rowCount("ODBCDataSource") > 0,
    containsSystemRegistryKeys,
    containsSystemFolders,
  };
}
