// Packaging and unpacking drop a fresh buffer for every cipher and zlib update; they report them to the collector
// (src/platform/gc.ts) so that dead buffers are freed while young instead of piling up until V8's external-memory
// limit. Memory itself is measured by bench/package.ts, never asserted here.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packageFolder } from "../../src/intunewin/package.js";
import { unpackPackage } from "../../src/intunewin/unpack.js";
import { GARBAGE_STEP, garbageCollections } from "../../src/platform/gc.js";
import { useScratch } from "../support/scratch.js";

const fresh = useScratch("ip-memory-");
const MiB = 1024 * 1024;

describe("dead buffers on the streaming paths", () => {
  it("package and unpack each collect young garbage as they go, about once per GARBAGE_STEP of data", async () => {
    const dir = await fresh();
    const source = join(dir, "source");
    await mkdir(source);
    await writeFile(join(source, "install.ps1"), "Write-Output 'installing'\r\n");
    await writeFile(join(source, "data.bin"), randomBytes(12 * MiB));
    await writeFile(join(source, "log.txt"), Buffer.from("install ok\r\n".repeat(700_000)));
    const steps = Math.floor((12 * MiB) / GARBAGE_STEP);

    const beforePackage = garbageCollections();
    const pkg = await packageFolder({ sourceDir: source, setupFile: "install.ps1", outDir: join(dir, "out") });
    const packaging = garbageCollections() - beforePackage;
    // At least the cipher's output (one fresh buffer per MiB of the inner zip) is reported.
    assert.ok(packaging >= steps, `package ran ${packaging} collections, want ≥ ${steps}`);

    const beforeUnpack = garbageCollections();
    const r = await unpackPackage({ packagePath: pkg.path, outDir: join(dir, "unpacked") });
    const unpacking = garbageCollections() - beforeUnpack;
    assert.equal(r.files, 3);
    // The decipher's output and the extraction's reads and inflated pieces.
    assert.ok(unpacking >= steps, `unpack ran ${unpacking} collections, want ≥ ${steps}`);
  });
});
