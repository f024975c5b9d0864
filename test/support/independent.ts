/*
 * An implementation of the .intunewin format independent of src/intunewin, used to judge it: Node's crypto
 * for the MAC, decryption and digest, and CPython's zipfile module for both zip layers.
 */
import { spawnSync } from "node:child_process";
import { createDecipheriv, createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

function python(script: string, args: string[]): string {
  const r = spawnSync("python3", ["-c", script, ...args], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout;
}

export interface ZipListing {
  name: string;
  size: number;
  compressSize: number;
  method: number;
  flags: number;
  crc: number;
  createVersion: number;
  createSystem: number;
  extractVersion: number;
  externalAttr: number;
  extraLength: number;
  dateTime: number[];
  sha256: string;
}

const LIST = `
import sys, zipfile, json, hashlib
out = []
with zipfile.ZipFile(sys.argv[1]) as z:
    for i in z.infolist():
        h = hashlib.sha256()
        with z.open(i) as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        out.append(dict(name=i.filename, size=i.file_size, compressSize=i.compress_size, method=i.compress_type,
            flags=i.flag_bits, crc=i.CRC, createVersion=i.create_version, createSystem=i.create_system,
            extractVersion=i.extract_version, externalAttr=i.external_attr, extraLength=len(i.extra),
            dateTime=list(i.date_time), sha256=h.hexdigest()))
print(json.dumps(out))
`;

/** Lists a zip with CPython, reading every entry to its end (zipfile checks the CRC there) to hash it. */
export function listZip(path: string): ZipListing[] {
  return JSON.parse(python(LIST, [path])) as ZipListing[];
}

/** Extracts one entry of a zip to a file with CPython. */
export function extractEntry(zipPath: string, entry: string, dest: string): void {
  python(
    `import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as s, open(sys.argv[3], "wb") as d:
    shutil.copyfileobj(s, d, 1 << 20)`,
    [zipPath, entry, dest],
  );
}

export function xmlValue(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

/** Verifies a payload file (MAC‖IV‖ciphertext) with Node's crypto and returns the decrypted plaintext. */
export function decryptPayloadFile(payloadPath: string, detectionXml: string): { plaintext: Buffer; macOk: boolean } {
  const payload = readFileSync(payloadPath);
  const b64 = (n: string): Buffer => Buffer.from(xmlValue(detectionXml, n) ?? "", "base64");
  const macOk =
    createHmac("sha256", b64("MacKey")).update(payload.subarray(32)).digest().equals(payload.subarray(0, 32)) &&
    payload.subarray(0, 32).equals(b64("Mac")) &&
    payload.subarray(32, 48).equals(b64("InitializationVector"));
  const d = createDecipheriv("aes-256-cbc", b64("EncryptionKey"), payload.subarray(32, 48));
  const plaintext = Buffer.concat([d.update(payload.subarray(48)), d.final()]);
  if (!createHash("sha256").update(plaintext).digest().equals(b64("FileDigest")))
    throw new Error("FileDigest mismatch");
  return { plaintext, macOk };
}

/** Writes a stored two-entry outer zip with CPython, for building hand-made (e.g. malicious) packages. */
export function writeOuterZip(
  dest: string,
  payloadPath: string,
  detectionXml: string,
  payloadName = "IntunePackage.intunewin",
): void {
  python(
    `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as z:
    z.write(sys.argv[2], "IntuneWinPackage/Contents/" + sys.argv[4])
    z.writestr("IntuneWinPackage/Metadata/Detection.xml", sys.argv[3])`,
    [dest, payloadPath, detectionXml, payloadName],
  );
}

/** Writes a zip with the given entry names and contents with CPython (names kept verbatim, `\\` included). */
export function writeZip(dest: string, entries: { name: string; data: string }[]): void {
  python(
    `import sys, zipfile, json
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for e in json.loads(sys.argv[2]):
        z.writestr(zipfile.ZipInfo(e["name"]), e["data"])`,
    [dest, JSON.stringify(entries)],
  );
}
