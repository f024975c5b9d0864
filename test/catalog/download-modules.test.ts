// What a download loads: the downloader's modules leave zod (≈ 14 MiB of resident memory, bench/README.md download)
// to the moment a lock file is read. A child process whose resolve hook refuses zod imports the download API and
// downloads nothing; reading a lock file there still validates it (the schema loaded then).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === "zod") process.stderr.write("zod loaded\\n");
  return next(specifier, context);
}`;
const register = `import { register } from "node:module";
register("data:text/javascript,${encodeURIComponent(hooks)}");`;

function child(script: string): { stderr: string; status: number | null } {
  const r = spawnSync(
    process.execPath,
    ["--import", `data:text/javascript,${encodeURIComponent(register)}`, "--input-type=module", "-e", script],
    { encoding: "utf8" },
  );
  return { stderr: r.stderr, status: r.status };
}

describe("the download API's modules", () => {
  const api = new URL("../../src/catalog/download/index.js", import.meta.url).href;

  it("do not load zod until a lock file is read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ip-download-modules-"));
    try {
      const lock = join(dir, "catalog.lock.json");
      await writeFile(lock, JSON.stringify({ lockVersion: 1, downloads: [] }));
      const r = child(`const { Downloader, DownloadLockFile } = await import(${JSON.stringify(api)});
new Downloader({ cacheDir: ${JSON.stringify(join(dir, "cache"))}, transport: { send: async () => { throw new Error("no"); }, close: async () => {} }, lockFile: ${JSON.stringify(lock)} });
process.stderr.write("constructed\\n");
await new DownloadLockFile(${JSON.stringify(lock)}).lookup("A.B", "1.0");
process.stderr.write("read\\n");`);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stderr.trim().split("\n"), ["constructed", "zod loaded", "read"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("still refuse an invalid lock file with the schema's message", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ip-download-modules-"));
    try {
      const lock = join(dir, "catalog.lock.json");
      await writeFile(lock, JSON.stringify({ lockVersion: 1, downloads: [{ id: "A.B", version: "1.0" }] }));
      const r = child(`const { DownloadLockFile } = await import(${JSON.stringify(api)});
try { await new DownloadLockFile(${JSON.stringify(lock)}).lookup("A.B", "1.0"); } catch (e) { process.stderr.write(e.code + ": " + e.message + "\\n"); }`);
      assert.match(r.stderr, /LockFileInvalid: The download lock file .* has an invalid downloads\.0\.url: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
