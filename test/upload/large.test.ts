// Opt-in (UPLOAD_LARGE=1): 512 MiB of incompressible content packaged by our packager and uploaded through the local
// tenant with disk-backed Azurite, whose commit really verifies it. The RSS growth is reported, not asserted (it
// depends on the machine's load and the collector): bench/upload.ts measures memory, and upload-blocks.test.ts
// checks what keeps it flat (a few reused block buffers). Off by default: on two busy cores it can take longer than a
// unit-test run should.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { packageFolder } from "../../src/intunewin/package.js";
import type { PackageResult } from "../../src/intunewin/package.js";
import { uploadContent } from "../../src/publish/upload/index.js";
import { createApp, getApp, tempDir } from "../support/fixtures.js";
import { startTestTenant, type TestTenant } from "../support/tenant.js";

const MiB = 1024 * 1024;

describe("large upload", { skip: process.env["UPLOAD_LARGE"] !== "1" && "set UPLOAD_LARGE=1 to run" }, () => {
  let t: TestTenant;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let pkg: PackageResult;

  before(async () => {
    dir = await tempDir();
    const source = join(dir.path, "source");
    await mkdir(source);
    const fh = await open(join(source, "data.bin"), "w");
    for (let i = 0; i < 32; i++) await fh.write(randomBytes(16 * MiB));
    await fh.close();
    const script = await open(join(source, "install.ps1"), "w");
    await script.writeFile("Write-Output 'installing'\r\n");
    await script.close();
    pkg = await packageFolder({ sourceDir: source, setupFile: "install.ps1", outDir: join(dir.path, "out") });
    await mkdir(join(dir.path, "blobs"));
    t = await startTestTenant({ storage: { location: join(dir.path, "blobs") } });
  });
  after(async () => {
    await t?.close();
    await dir?.remove();
  });

  it("uploads 512 MiB in 8 MiB × 4, and the tenant verifies it", async (ctx) => {
    const appId = await createApp(t.graph);
    const baseline = process.memoryUsage().rss;
    let peak = 0;
    // Sampled while blocks are sent (the commit's verification afterwards runs in the emulator, in this process).
    let sending = false;
    const timer = setInterval(() => {
      if (sending) peak = Math.max(peak, process.memoryUsage().rss - baseline);
    }, 25);
    try {
      const r = await uploadContent({
        graph: t.graph,
        appId,
        packagePath: pkg.path,
        blockSize: 8 * MiB,
        concurrency: 4,
        poll: { initialIntervalMs: 50, factor: 1.5, maxIntervalMs: 500 },
        storage: { transport: t.blob.send },
        onProgress: (e) => {
          if (e.type === "stage") sending = e.stage === "blocks";
        },
      });
      assert.equal(r.bytesSent, pkg.encryptedSize);
      assert.equal((await getApp(t.graph, appId)).committedContentVersion, r.contentVersionId);
    } finally {
      clearInterval(timer);
    }
    ctx.diagnostic(`RSS grew by at most ${Math.round(peak / MiB)} MiB during the upload (reported, not asserted)`);
    assert.ok(pkg.encryptedSize > 512 * MiB);
  });
});
