import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import CFB from "cfb";
import { PublisherError } from "../core/errors.js";
import { fixture } from "../../test/support/paths.js";
import { CompoundFile, runOnBytes } from "./cfb-reader.js";
import { parseMsi, readMsi, type MsiMetadata } from "./msi.js";

const msi = (name: string): string => fixture("msi", name);

// Values from test/fixtures/README.md (msiinfo export Property, msiinfo suminfo).
const FIXTURES: Record<string, { metadata: Partial<MsiMetadata>; properties: Record<string, string> }> = {
  "tinyapp-1.0.0-x86.msi": {
    metadata: {
      productCode: "{6B1C2D3E-4F50-4A61-8B72-93A4B5C6D7E8}",
      productVersion: "1.0.0",
      productName: "TinyApp Test Fixture",
      manufacturer: "Example Fixtures Ltd",
      upgradeCode: "{0F1E2D3C-4B5A-4697-8877-665544332211}",
      packageCode: "{22868978-4075-47DE-AC5B-F54490DC0F0C}",
      template: "Intel;1033",
      architecture: "x86",
      languages: "1033",
      allUsers: "1",
      msiInstallPerUser: undefined,
    },
    properties: {
      ALLUSERS: "1",
      Manufacturer: "Example Fixtures Ltd",
      ProductLanguage: "1033",
      ProductCode: "{6B1C2D3E-4F50-4A61-8B72-93A4B5C6D7E8}",
      ProductName: "TinyApp Test Fixture",
      ProductVersion: "1.0.0",
      UpgradeCode: "{0F1E2D3C-4B5A-4697-8877-665544332211}",
    },
  },
  "tinyapp64-2.3.4-x64.msi": {
    metadata: {
      productCode: "{C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B}",
      productVersion: "2.3.4",
      productName: "TinyApp64 Test Fixture",
      manufacturer: "Example Fixtures Ltd",
      upgradeCode: "{9A8B7C6D-5E4F-4031-9281-706F5E4D3C2B}",
      packageCode: "{706AC892-7FF4-49E9-B3F6-C4804EE009FF}",
      template: "x64;1033",
      architecture: "x64",
      languages: "1033",
      allUsers: "1",
      msiInstallPerUser: undefined,
    },
    properties: {
      ALLUSERS: "1",
      Manufacturer: "Example Fixtures Ltd",
      ProductLanguage: "1033",
      ProductCode: "{C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B}",
      ProductName: "TinyApp64 Test Fixture",
      ProductVersion: "2.3.4",
      UpgradeCode: "{9A8B7C6D-5E4F-4031-9281-706F5E4D3C2B}",
    },
  },
  "jsign-minimal.msi": {
    metadata: {
      productCode: "{24E06469-048F-47B0-ADDF-E6D930C6DDE2}",
      productVersion: "1.0.0",
      productName: "Minimal MSI package for Jsign tests",
      manufacturer: "The Jsign project",
      upgradeCode: "{12345678-CAFE-1234-5678-111111111111}",
      packageCode: "{12A87828-5174-49C0-AD39-6747817C9C12}",
      template: "Intel;1033",
      architecture: "x86",
      languages: "1033",
      allUsers: undefined,
      msiInstallPerUser: undefined,
    },
    properties: {
      Manufacturer: "The Jsign project",
      ProductCode: "{24E06469-048F-47B0-ADDF-E6D930C6DDE2}",
      ProductLanguage: "1033",
      ProductName: "Minimal MSI package for Jsign tests",
      ProductVersion: "1.0.0",
      UpgradeCode: "{12345678-CAFE-1234-5678-111111111111}",
    },
  },
  "relic-dummy.msi": {
    metadata: {
      productCode: "{01D48E5F-8885-47C2-8D89-793CFC9DE165}",
      productVersion: "1.0.0",
      productName: "dummy",
      manufacturer: "dummy",
      upgradeCode: "{A9C9A3FB-AF3C-4A5C-9818-BC9BE1EDCD51}",
      packageCode: "{71978EBD-79FE-450E-A2E6-1FC75128A33D}",
      template: "Intel;1033",
      architecture: "x86",
      languages: "1033",
      allUsers: undefined,
      msiInstallPerUser: undefined,
    },
    properties: {
      Manufacturer: "dummy",
      ProductCode: "{01D48E5F-8885-47C2-8D89-793CFC9DE165}",
      ProductLanguage: "1033",
      ProductName: "dummy",
      ProductVersion: "1.0.0",
      UpgradeCode: "{A9C9A3FB-AF3C-4A5C-9818-BC9BE1EDCD51}",
    },
  },
};

function pick(m: MsiMetadata, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, m[k as keyof MsiMetadata]]));
}

function assertCorrupt(error: unknown, name: string, problem?: RegExp): true {
  assert.ok(error instanceof PublisherError, `expected a PublisherError, got ${String(error)}`);
  assert.equal(error.kind, "input");
  assert.equal(error.code, "MsiCorrupt");
  assert.ok(error.message.includes(name), `message should name ${name}: ${error.message}`);
  if (problem) assert.match(error.message, problem);
  assert.ok(error.hint);
  return true;
}

const PER_MACHINE_PLAIN = {
  executionContext: "System",
  isMachineInstall: true,
  isUserInstall: false,
  requiresLogon: false,
  requiresReboot: false,
  includesServices: false,
  includesOdbcDataSource: false,
  containsSystemRegistryKeys: false,
  containsSystemFolders: true,
};
const PER_USER_PLAIN = {
  ...PER_MACHINE_PLAIN,
  executionContext: "User",
  isMachineInstall: false,
  isUserInstall: true,
  containsSystemFolders: false,
};

describe("readMsi on the shared fixtures", () => {
  for (const [file, expected] of Object.entries(FIXTURES)) {
    it(`${file} gives the README values and Property table`, async () => {
      const m = await readMsi(msi(file));
      assert.deepEqual(pick(m, Object.keys(expected.metadata)), expected.metadata);
      assert.deepStrictEqual(m.properties, expected.properties);
    });
  }

  it("tells x86 from x64 by the Template", async () => {
    assert.equal((await readMsi(msi("tinyapp-1.0.0-x86.msi"))).architecture, "x86");
    assert.equal((await readMsi(msi("tinyapp64-2.3.4-x64.msi"))).architecture, "x64");
  });

  it("reads the signed jsign MSI exactly as the unsigned one", async () => {
    const signed = await readMsi(msi("jsign-minimal-signed-with-signtool.msi"));
    assert.deepStrictEqual(signed, await readMsi(msi("jsign-minimal.msi")));
    assert.equal(signed.productCode, "{24E06469-048F-47B0-ADDF-E6D930C6DDE2}");
  });

  it("derives the <MsiInfo> facts of a per-machine wixl MSI", async () => {
    const m = await readMsi(msi("tinyapp64-2.3.4-x64.msi"));
    assert.deepEqual(pick(m, Object.keys(PER_MACHINE_PLAIN)), PER_MACHINE_PLAIN);
  });

  it("derives the <MsiInfo> facts of per-user WiX MSIs (relic-dummy: FAT and mini streams, code page 1252)", async () => {
    const relic = await readMsi(msi("relic-dummy.msi"));
    assert.deepEqual(pick(relic, Object.keys(PER_USER_PLAIN)), { ...PER_USER_PLAIN, containsSystemFolders: true });
    // jsign-minimal has no Directory table at all.
    const jsign = await readMsi(msi("jsign-minimal.msi"));
    assert.deepEqual(pick(jsign, Object.keys(PER_USER_PLAIN)), PER_USER_PLAIN);
  });
});

// ---- A small MSI writer, so that each rule can be tested on a package made for it ----

type Cell = string | number | null;
interface TableSpec {
  columns: [name: string, type: number][];
  rows: Cell[][];
}
interface MsiSpec {
  /** The Property table; null leaves the table out. */
  properties?: Record<string, string> | null;
  tables?: Record<string, TableSpec>;
  codepage?: number;
  longStringRefs?: boolean;
  /** Where a string of 64 KiB or more keeps its length's high word: in the first entry (default) or the second. */
  highWordInSecondEntry?: boolean;
  template?: string;
  summary?: false;
  /** More root streams, by stored name (e.g. an embedded cabinet). */
  extraStreams?: Record<string, Uint8Array>;
}

// _Columns types: 0x0D00 string, 0x0900 stream, 0x0500 int16, 0x0100 int32; 0x1000 nullable.
const STR = 0x0d48;
const STR_NULL = 0x1dff;
const I2 = 0x0502;
const I4 = 0x0104;
const STREAM = 0x1900;
const BASE_PROPERTIES = {
  ProductCode: "{11111111-2222-3333-4444-555555555555}",
  ProductVersion: "9.8.7",
  ProductName: "Synthetic",
  Manufacturer: "Tests",
};
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";

function encodeStreamName(name: string): string {
  let out = "\u4840"; // table prefix
  for (let i = 0; i < name.length; i += 2) {
    const a = ALPHABET.indexOf(name[i]!);
    const b = i + 1 < name.length ? ALPHABET.indexOf(name[i + 1]!) : -1;
    out += String.fromCharCode(b < 0 ? 0x4800 + a : 0x3800 + a + (b << 6));
  }
  return out;
}

function encodeText(s: string, codepage: number): Buffer {
  if (codepage === 65001) return Buffer.from(s, "utf8");
  // Windows-1252 for the characters these tests use: Latin-1, plus the euro sign and right quote.
  const extra: Record<string, number> = { "\u20ac": 0x80, "\u2019": 0x92 };
  return Buffer.from([...s].map((c) => extra[c] ?? c.charCodeAt(0)));
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function summaryStream(template: string, revision: string): Buffer {
  const lpstr = (s: string): Buffer => {
    const text = Buffer.concat([Buffer.from(s, "latin1"), Buffer.alloc(1)]);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(30);
    head.writeUInt32LE(text.length, 4);
    return Buffer.concat([head, text, Buffer.alloc((4 - (text.length % 4)) % 4)]);
  };
  const codepage = Buffer.alloc(8);
  codepage.writeUInt32LE(2);
  codepage.writeInt16LE(1252, 4);
  const props: [number, Buffer][] = [
    [1, codepage],
    [7, lpstr(template)],
    [9, lpstr(revision)],
  ];
  const index = Buffer.alloc(8 + props.length * 8);
  let offset = index.length;
  props.forEach(([pid, value], i) => {
    index.writeUInt32LE(pid, 8 + i * 8);
    index.writeUInt32LE(offset, 12 + i * 8);
    offset += value.length;
  });
  index.writeUInt32LE(offset);
  index.writeUInt32LE(props.length, 4);
  const header = Buffer.alloc(48);
  header.writeUInt16LE(0xfffe);
  header.writeUInt32LE(0x00020006, 4);
  header.writeUInt32LE(1, 24);
  Buffer.from("e0859ff2f94f6810ab9108002b27b3d9", "hex").copy(header, 28); // FMTID_SummaryInformation
  header.writeUInt32LE(48, 44);
  return Buffer.concat([header, index, ...props.map(([, v]) => v)]);
}

function buildMsi(spec: MsiSpec = {}): Buffer {
  const codepage = spec.codepage ?? 1252;
  const refWidth = spec.longStringRefs ? 3 : 2;
  const strings: string[] = [];
  const ids = new Map<string, number>();
  const intern = (s: string): number => {
    if (!ids.has(s)) ids.set(s, strings.push(s));
    return ids.get(s)!;
  };
  const tables: Record<string, TableSpec> = { ...spec.tables };
  if (spec.properties !== null) {
    tables.Property = {
      columns: [
        ["Property", STR | 0x2000],
        ["Value", STR],
      ],
      rows: Object.entries(spec.properties ?? BASE_PROPERTIES),
    };
  }

  const columnWise = (columns: number[], rows: Cell[][]): Buffer =>
    Buffer.concat(
      columns.flatMap((type, c) =>
        rows.map((row) => {
          const v = row[c] ?? null;
          if (type & 0x0800 && (type & 0x0c00) !== 0x0c00) return Buffer.alloc(2);
          if (type & 0x0800) {
            const b = Buffer.alloc(refWidth);
            b.writeUIntLE(v === null ? 0 : intern(String(v)), 0, refWidth);
            return b;
          }
          if ((type & 0xff) === 4) {
            const b = Buffer.alloc(4);
            b.writeUInt32LE(v === null ? 0 : (Number(v) + 0x80000000) >>> 0);
            return b;
          }
          return u16(v === null ? 0 : (Number(v) + 0x8000) & 0xffff);
        }),
      ),
    );

  const streams = new Map<string, Buffer>();
  const columnRows: Cell[][] = [];
  for (const [name, table] of Object.entries(tables)) {
    table.columns.forEach(([column, type], i) => columnRows.push([name, i + 1, column, type]));
    if (table.rows.length > 0) {
      streams.set(
        name,
        columnWise(
          table.columns.map(([, type]) => type),
          table.rows,
        ),
      );
    }
  }
  streams.set(
    "_Tables",
    columnWise(
      [STR],
      Object.keys(tables).map((t) => [t]),
    ),
  );
  streams.set("_Columns", columnWise([STR, I2, STR, I2], columnRows));

  const pool: Buffer[] = [Buffer.alloc(4)];
  pool[0]!.writeUInt32LE((codepage | (spec.longStringRefs ? 0x80000000 : 0)) >>> 0);
  const data = strings.map((s) => encodeText(s, codepage));
  for (const bytes of data) {
    const refcount = u16(7); // not 1, so that it cannot pass for a length's high word
    if (bytes.length <= 0xffff) pool.push(u16(bytes.length), refcount);
    else if (spec.highWordInSecondEntry)
      pool.push(u16(0), refcount, u16(bytes.length & 0xffff), u16(bytes.length >>> 16));
    else pool.push(u16(0), u16(bytes.length >>> 16), u16(bytes.length & 0xffff), refcount);
  }
  streams.set("_StringPool", Buffer.concat(pool));
  streams.set("_StringData", Buffer.concat(data));

  const container = CFB.utils.cfb_new();
  for (const [name, bytes] of streams) CFB.utils.cfb_add(container, encodeStreamName(name), bytes);
  for (const [name, bytes] of Object.entries(spec.extraStreams ?? {})) CFB.utils.cfb_add(container, name, bytes);
  if (spec.summary !== false) {
    CFB.utils.cfb_add(
      container,
      "\u0005SummaryInformation",
      summaryStream(spec.template ?? "Intel;1033", "{ABCDEF01-2345-6789-ABCD-EF0123456789}"),
    );
  }
  return CFB.write(container, { type: "buffer" }) as Buffer;
}

const withProperties = (extra: Record<string, string>, tables?: Record<string, TableSpec>): MsiSpec => ({
  properties: { ...BASE_PROPERTIES, ...extra },
  tables,
});

describe("parseMsi on made-up packages", () => {
  it("reads a package made by the test writer", () => {
    const m = parseMsi(buildMsi());
    assert.deepStrictEqual(m.properties, BASE_PROPERTIES);
    assert.equal(m.packageCode, "{ABCDEF01-2345-6789-ABCD-EF0123456789}");
    assert.equal(m.upgradeCode, undefined);
    assert.deepEqual(pick(m, Object.keys(PER_USER_PLAIN)), PER_USER_PLAIN);
  });

  it("maps ALLUSERS to the execution context", () => {
    const facts = (allUsers?: string): unknown[] => {
      const m = parseMsi(buildMsi(withProperties(allUsers === undefined ? {} : { ALLUSERS: allUsers })));
      return [m.allUsers, m.executionContext, m.isMachineInstall, m.isUserInstall];
    };
    assert.deepEqual(facts("1"), ["1", "System", true, false]);
    assert.deepEqual(facts("2"), ["2", "Any", true, true]);
    assert.deepEqual(facts(undefined), [undefined, "User", false, true]);
    const perUser = parseMsi(buildMsi(withProperties({ ALLUSERS: "2", MSIINSTALLPERUSER: "1" })));
    assert.equal(perUser.msiInstallPerUser, "1");
    assert.equal(perUser.executionContext, "Any");
  });

  it("finds a required reboot in REBOOT=Force or a reboot action in InstallExecuteSequence", () => {
    const sequence = (action: string): Record<string, TableSpec> => ({
      InstallExecuteSequence: {
        columns: [
          ["Action", STR | 0x2000],
          ["Condition", STR_NULL],
          ["Sequence", I2 | 0x1000],
        ],
        rows: [
          ["InstallFiles", null, 4000],
          [action, null, 6700],
        ],
      },
    });
    assert.equal(parseMsi(buildMsi(withProperties({ REBOOT: "force" }))).requiresReboot, true);
    assert.equal(parseMsi(buildMsi(withProperties({ REBOOT: "ReallySuppress" }))).requiresReboot, false);
    assert.equal(parseMsi(buildMsi(withProperties({}, sequence("ScheduleReboot")))).requiresReboot, true);
    assert.equal(parseMsi(buildMsi(withProperties({}, sequence("ForceReboot")))).requiresReboot, true);
    assert.equal(parseMsi(buildMsi(withProperties({}, sequence("InstallFinalize")))).requiresReboot, false);
  });

  it("reports services and ODBC data sources only when their tables have rows", () => {
    const table = (name: string, rows: Cell[][]): Record<string, TableSpec> => ({
      [name]: {
        columns: [
          [name, STR | 0x2000],
          ["Component_", STR],
        ],
        rows,
      },
    });
    const services = (rows: Cell[][]): boolean =>
      parseMsi(buildMsi(withProperties({}, table("ServiceInstall", rows)))).includesServices;
    assert.equal(services([["Svc", "Main"]]), true);
    assert.equal(services([]), false);
    const odbc = (rows: Cell[][]): boolean =>
      parseMsi(buildMsi(withProperties({}, table("ODBCDataSource", rows)))).includesOdbcDataSource;
    assert.equal(odbc([["Dsn", "Main"]]), true);
    assert.equal(odbc([]), false);
  });

  it("counts HKLM and HKU always, HKCR and the ALLUSERS root only in per-machine installs", () => {
    const system = (root: number, allUsers?: string): boolean =>
      parseMsi(
        buildMsi(
          withProperties(allUsers ? { ALLUSERS: allUsers } : {}, {
            Registry: {
              columns: [
                ["Registry", STR | 0x2000],
                ["Root", I2],
                ["Key", STR],
                ["Name", STR_NULL],
                ["Value", STR_NULL],
                ["Component_", STR],
              ],
              rows: [
                ["UserKey", 1, "Software\\Tests", "a", "1", "Main"],
                ["Key", root, "Software\\Tests", "b", null, "Main"],
              ],
            },
          }),
        ),
      ).containsSystemRegistryKeys;
    assert.equal(system(1), false);
    assert.equal(system(1, "1"), false);
    assert.equal(system(2), true);
    assert.equal(system(3), true);
    assert.equal(system(0), false);
    assert.equal(system(0, "1"), true);
    assert.equal(system(-1), false);
    assert.equal(system(-1, "1"), true);
    assert.equal(system(-1, "2"), true);
  });

  it("counts system folders always, all-users shell folders only in per-machine installs", () => {
    const system = (folder: string, allUsers?: string): boolean =>
      parseMsi(
        buildMsi(
          withProperties(allUsers ? { ALLUSERS: allUsers } : {}, {
            Directory: {
              columns: [
                ["Directory", STR | 0x2000],
                ["Directory_Parent", STR_NULL],
                ["DefaultDir", STR],
              ],
              rows: [
                ["TARGETDIR", null, "SourceDir"],
                [folder, "TARGETDIR", "."],
                ["APPDIR", folder, "App"],
              ],
            },
          }),
        ),
      ).containsSystemFolders;
    assert.equal(system("SystemFolder"), true);
    assert.equal(system("CommonFiles64Folder"), true);
    assert.equal(system("LocalAppDataFolder", "1"), false);
    assert.equal(system("ProgramMenuFolder"), false);
    assert.equal(system("ProgramMenuFolder", "1"), true);
  });

  it("maps each Template platform to an architecture", () => {
    const arch = (template: string): unknown[] => {
      const m = parseMsi(buildMsi({ template }));
      return [m.architecture, m.languages];
    };
    assert.deepEqual(arch("Intel;1033"), ["x86", "1033"]);
    assert.deepEqual(arch("x64;1033,1031"), ["x64", "1033,1031"]);
    assert.deepEqual(arch("AMD64;1033"), ["x64", "1033"]);
    assert.deepEqual(arch("Arm64;1033"), ["arm64", "1033"]);
    assert.deepEqual(arch("Arm;1033"), ["arm", "1033"]);
    assert.deepEqual(arch("Intel64;1033"), ["ia64", "1033"]);
    assert.deepEqual(arch(";0"), ["neutral", "0"]);
    assert.throws(
      () => parseMsi(buildMsi({ template: "Alpha;1033" }), "alpha.msi"),
      (e) => assertCorrupt(e, "alpha.msi", /Alpha/),
    );
  });

  it("decodes the string pool in its code page (1252, 0 taken as 1252, UTF-8)", () => {
    const name = "Caf\u00e9\u2019s \u20ac";
    for (const codepage of [1252, 0, 65001]) {
      const m = parseMsi(buildMsi({ ...withProperties({ ARPCOMMENTS: name }), codepage }));
      assert.equal(m.properties.ARPCOMMENTS, name, `code page ${codepage}`);
    }
  });

  it("reads 3-byte string references and integers of every width", () => {
    const m = parseMsi(
      buildMsi({
        ...withProperties(
          { ALLUSERS: "1" },
          {
            Registry: {
              columns: [
                ["Registry", STR | 0x2000],
                ["Root", I2],
                ["Key", STR],
                ["Size", I4 | 0x1000],
                ["Data", STREAM],
              ],
              rows: [["K", -1, "Software\\Tests", -70000, null]],
            },
          },
        ),
        longStringRefs: true,
      }),
    );
    assert.equal(m.productCode, BASE_PROPERTIES.ProductCode);
    assert.equal(m.containsSystemRegistryKeys, true);
  });

  for (const highWordInSecondEntry of [false, true]) {
    it(`reads a string of 64 KiB or more (high word in the ${highWordInSecondEntry ? "second" : "first"} entry)`, () => {
      const big = "x".repeat(70_000) + "end";
      const m = parseMsi(
        buildMsi({ ...withProperties({ BIG: big, AFTER: "after the big one" }), highWordInSecondEntry }),
      );
      assert.equal(m.properties.BIG, big);
      assert.equal(m.properties.AFTER, "after the big one");
      assert.equal(m.productName, "Synthetic");
    });
  }

  it("keeps a property named __proto__ as an ordinary entry", () => {
    const m = parseMsi(buildMsi(withProperties({ ["__proto__"]: "kept" })));
    assert.equal(Object.getOwnPropertyDescriptor(m.properties, "__proto__")?.value, "kept");
    assert.equal(Object.getPrototypeOf(m.properties), Object.prototype);
  });
});

describe("rejecting what is not a readable MSI", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "msi-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const rejectsFile = async (name: string, bytes: Uint8Array, problem?: RegExp): Promise<void> => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    await assert.rejects(readMsi(path), (e) => assertCorrupt(e, path, problem));
  };

  it("random bytes", async () => {
    await rejectsFile("random.msi", randomBytes(8192), /not an OLE compound file/);
  });

  it("a zero-byte file", async () => {
    await rejectsFile("empty.msi", new Uint8Array(0), /empty/);
  });

  it("the first 2048 bytes of a real MSI", async () => {
    const whole = await readFile(msi("relic-dummy.msi"));
    await rejectsFile("truncated.msi", whole.subarray(0, 2048), /truncated/);
  });

  it("a real MSI missing only its tail, which the compound-file reader alone would not notice", async () => {
    const whole = await readFile(msi("relic-dummy.msi"));
    await rejectsFile("tail.msi", whole.subarray(0, 30_000), /truncated/);
  });

  it("a stream whose directory entry claims more bytes than its sectors hold", async () => {
    const bytes = Buffer.from(await readFile(msi("tinyapp-1.0.0-x86.msi")));
    const entry = bytes.indexOf(Buffer.from("\u0005SummaryInformation", "utf16le"));
    assert.equal(bytes.readUInt32LE(entry + 120), 484);
    bytes.writeUInt32LE(3000, entry + 120); // still a mini stream, but its chain holds 512 bytes
    await rejectsFile("oversized.msi", bytes, /SummaryInformation" holds 512 of its 3000 bytes/);
  });

  it("a compound file that is not an MSI", async () => {
    const container = CFB.utils.cfb_new();
    CFB.utils.cfb_add(container, "WordDocument", Buffer.from("hello"));
    await rejectsFile("word.doc", CFB.write(container, { type: "buffer" }) as Buffer, /_StringPool/);
  });

  it("an MSI without a Property table, ProductCode or Summary Information", () => {
    assert.throws(
      () => parseMsi(buildMsi({ properties: null }), "no-table.msi"),
      (e) => assertCorrupt(e, "no-table.msi", /no Property table/),
    );
    const { ProductCode: _, ...rest } = BASE_PROPERTIES;
    assert.throws(
      () => parseMsi(buildMsi({ properties: rest }), "no-code.msi"),
      (e) => assertCorrupt(e, "no-code.msi", /no ProductCode/),
    );
    assert.throws(
      () => parseMsi(buildMsi({ summary: false }), "no-summary.msi"),
      (e) => assertCorrupt(e, "no-summary.msi", /Summary Information/),
    );
  });

  it("a table whose size is not a whole number of rows, or that points past the string pool", () => {
    const bytes = buildMsi();
    const container = CFB.read(bytes, { type: "buffer" });
    const property = Buffer.from(CFB.find(container, encodeStreamName("Property"))!.content);
    CFB.utils.cfb_add(container, encodeStreamName("Property"), Buffer.concat([property, u16(1)]));
    assert.throws(
      () => parseMsi(CFB.write(container, { type: "buffer" }) as Buffer, "odd.msi"),
      (e) => assertCorrupt(e, "odd.msi", /whole number of 4-byte rows/),
    );
    property.writeUInt16LE(0xfff0, 0);
    CFB.utils.cfb_add(container, encodeStreamName("Property"), property);
    assert.throws(
      () => parseMsi(CFB.write(container, { type: "buffer" }) as Buffer, "dangling.msi"),
      (e) => assertCorrupt(e, "dangling.msi", /beyond the string pool/),
    );
  });

  it("reports a missing file as missing, not corrupt", async () => {
    const path = join(dir, "missing.msi");
    await assert.rejects(readMsi(path), (e) => {
      assert.ok(e instanceof PublisherError);
      assert.equal(e.kind, "input");
      assert.equal(e.code, "FileNotFound");
      assert.ok(e.message.includes(path));
      return true;
    });
  });

  it("refuses a FIFO at once, without waiting for a writer", { skip: process.platform === "win32" }, async () => {
    const path = join(dir, "pipe.msi");
    execFileSync("mkfifo", [path]);
    await assert.rejects(readMsi(path), (e) => {
      assert.ok(e instanceof PublisherError);
      assert.equal(e.kind, "input");
      assert.equal(e.code, "NotRegularFile");
      assert.match(e.message, /named pipe \(FIFO\), not a regular file/);
      assert.ok(e.message.includes(path));
      return true;
    });
  });
});

// ---- Reading only what is needed, and surviving hostile files ----

/** Byte offsets of a compound file's pieces, found independently of the reader under test. */
function layout(bytes: Buffer): {
  sectorSize: number;
  entry: (storedName: string) => number;
  fatEntry: (sector: number) => number;
  miniFatEntry: (mini: number) => number;
} {
  const sectorSize = 1 << bytes.readUInt16LE(30);
  const at = (sector: number): number => (sector + 1) * sectorSize;
  return {
    sectorSize,
    entry(storedName) {
      const name = Buffer.from(storedName + "\0", "utf16le");
      for (let i = sectorSize; i + 128 <= bytes.length; i += 128) {
        if (bytes.readUInt16LE(i + 0x40) === name.length && bytes.subarray(i, i + name.length).equals(name)) return i;
      }
      throw new Error(`no directory entry ${storedName}`);
    },
    // These test files have one FAT sector and one mini FAT sector at most, so no chains to follow.
    fatEntry: (sector) => at(bytes.readUInt32LE(76)) + sector * 4,
    miniFatEntry: (mini) => at(bytes.readUInt32LE(60)) + mini * 4,
  };
}

describe("reading only the streams it needs", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "msi-lazy-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a package with a 64 MiB cabinet without reading the cabinet", async () => {
    const cab = Buffer.alloc(64 * 1024 * 1024);
    cab.write("MSCF", 0, "latin1");
    cab.write("LAST", cab.length - 4, "latin1");
    const big = "x".repeat(70_000); // puts _StringData in regular sectors
    // cfb lays streams out shortest name first: a one-letter name puts the tables after the cabinet.
    const bytes = buildMsi({ ...withProperties({ ALLUSERS: "1", BIG: big }), extraStreams: { C: cab } });
    // 131,000-odd sectors need more allocation-table sectors than the header lists: DIFAT sectors too.
    assert.ok(bytes.readUInt32LE(44) > 109, "the file needs DIFAT sectors");
    const dataStart = bytes.readUInt32LE(layout(bytes).entry(encodeStreamName("_StringData")) + 0x74);
    assert.ok(dataStart > 109 * 128, `_StringData (sector ${dataStart}) is found through a DIFAT sector`);
    const path = join(dir, "big.msi");
    await writeFile(path, bytes);

    const reads: [number, number][] = [];
    const m = await readMsi(path, { onRead: (position, n) => reads.push([position, n]) });
    assert.equal(m.productCode, BASE_PROPERTIES.ProductCode);
    assert.equal(m.executionContext, "System");
    assert.equal(m.properties.BIG, big);
    const total = reads.reduce((sum, [, n]) => sum + n, 0);
    // The allocation table (1/128 of the file) is scanned for truncation; the cabinet is never read.
    assert.ok(total < bytes.length / 64, `read ${total} of ${bytes.length} bytes`);
    // cfb writes the cabinet in consecutive sectors: no read touches them.
    const cabFrom = (bytes.readUInt32LE(layout(bytes).entry("C") + 0x74) + 1) * 512;
    const cabTo = cabFrom + cab.length;
    assert.ok(bytes.subarray(cabTo - 4, cabTo).equals(Buffer.from("LAST")), "the cabinet's place in the file");
    for (const [position, n] of reads) {
      assert.ok(position + n <= cabFrom || position >= cabTo, `a read of ${n} bytes at ${position} is in the cabinet`);
    }
    assert.deepStrictEqual(parseMsi(bytes), m);

    // The reader can still fetch the cabinet when asked, through the DIFAT-listed FAT sectors.
    const content = runOnBytes(
      (function* () {
        const file = yield* CompoundFile.open(bytes.length);
        const stream = (yield* file.rootStreams()).find((s) => s.name === "C")!;
        return yield* file.readStream(stream, "the cabinet");
      })(),
      bytes,
    );
    assert.equal(content.length, cab.length);
    assert.ok(Buffer.from(content.subarray(0, 4)).equals(Buffer.from("MSCF")));
    assert.ok(Buffer.from(content.subarray(-4)).equals(Buffer.from("LAST")));
  });

  it("reads every fixture the same from a file and from memory", async () => {
    for (const file of Object.keys(FIXTURES)) {
      assert.deepStrictEqual(parseMsi(await readFile(msi(file))), await readMsi(msi(file)), file);
    }
  });

  // _StringData with a 70 KB string sits in regular sectors; the Summary Information in the mini stream.
  const hostile = (): { bytes: Buffer; at: ReturnType<typeof layout>; data: number; summary: number } => {
    const bytes = buildMsi(withProperties({ BIG: "x".repeat(70_000) }));
    const at = layout(bytes);
    return {
      bytes,
      at,
      data: at.entry(encodeStreamName("_StringData")),
      summary: at.entry("\u0005SummaryInformation"),
    };
  };
  const rejects = (bytes: Buffer, problem: RegExp): void => {
    assert.throws(
      () => parseMsi(bytes, "hostile.msi"),
      (e) => assertCorrupt(e, "hostile.msi", problem),
    );
  };

  it("rejects a loop in a stream's sector chain", () => {
    const { bytes, at, data } = hostile();
    const start = bytes.readUInt32LE(data + 0x74);
    const second = bytes.readUInt32LE(at.fatEntry(start));
    bytes.writeUInt32LE(start, at.fatEntry(second)); // the third sector is the first again
    rejects(bytes, new RegExp(`_StringData" loops back to sector ${start}`));
  });

  it("rejects a loop in a mini stream's chain", () => {
    const { bytes, at, summary } = hostile();
    const start = bytes.readUInt32LE(summary + 0x74);
    bytes.writeUInt32LE(start, at.miniFatEntry(start));
    rejects(bytes, new RegExp(`SummaryInformation" loops back to mini sector ${start}`));
  });

  it("rejects a loop in the directory tree", () => {
    const { bytes, data } = hostile();
    const root = layout(bytes).entry("Root Entry");
    bytes.writeUInt32LE(bytes.readUInt32LE(root + 0x4c), data + 0x44); // a left sibling that is the tree's top
    rejects(bytes, /directory tree loops back to entry/);
  });

  it("rejects start sectors outside the file and sizes larger than the file", () => {
    const { bytes, data, summary } = hostile();
    const copy = (): Buffer => Buffer.from(bytes);
    let b = copy();
    b.writeUInt32LE(0x00ffffff, data + 0x74);
    rejects(b, /_StringData" refers to sector 16777215, beyond the end of the file/);
    b = copy();
    b.writeUInt32LE(0xfffffffd, data + 0x74); // FATSECT
    rejects(b, /_StringData" is broken \(it meets marker 0xfffffffd\)/);
    b = copy();
    b.writeUInt32LE(0x00ffffff, summary + 0x74);
    rejects(b, /SummaryInformation" uses mini sector 16777215, past the end of the mini stream/);
    b = copy();
    b.writeUInt32LE(0x01000000, data + 0x78);
    rejects(b, /_StringData" claims 16777216 bytes, more than the whole file/);
    b.writeUInt32LE(0xfffffff0, data + 0x78); // checked on the directory, before any read of the stream
    rejects(b, /its stream "!_StringData" claims 4294967280 bytes, over the limit of 64 MiB for one table/);
  });

  it("caps what all the tables read into memory may claim together", () => {
    const { bytes, at, data } = hostile();
    // Three streams of 60 MiB each: each under the cap for one stream, together over the cap for all.
    for (const entry of [data, at.entry(encodeStreamName("_StringPool")), at.entry(encodeStreamName("Property"))]) {
      bytes.writeUInt32LE(60 * 1024 * 1024, entry + 0x78);
    }
    rejects(bytes, /its tables claim \d+ bytes, over the limit of 128 MiB for all of them/);
  });

  it("reports a directory as not a regular file, not corrupt", async () => {
    await assert.rejects(readMsi(dir), (e) => {
      assert.ok(e instanceof PublisherError);
      assert.equal(e.code, "NotRegularFile");
      assert.match(e.message, /is a folder, not a regular file/);
      return true;
    });
  });
});
