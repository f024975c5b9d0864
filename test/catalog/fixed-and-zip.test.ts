/**
 * `catalog show`, `download` and `import` of the two products that need the installer itself, through the CLI against
 * the vendor host's demo products: a catalog entry with a fixed URL (version = the MSI's ProductVersion, known only
 * after download) and a winget zip with a nested MSI (unpacked, the nested file checked).
 */
import assert from "node:assert/strict";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { defaultVendorSeed } from "../../emulator/vendor/default-seed.js";
import { startVendorHost } from "../../emulator/vendor/host.js";
import type { VendorHost } from "../../emulator/vendor/host.js";
import type { ShowResult } from "../../src/catalog/catalog.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { homeEnv, runCli } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";

const JSIGN_SHA = "e6539854cfe4bb68192ce5f6bae250327b8bd908fc817226b56b9d1b65548af0";

describe("catalog commands: a fixed-URL entry and a zip with a nested installer", () => {
  const scratch = useScratch("ip-catalog-fixed-");
  let host: VendorHost;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let entries: string;
  let config: string;
  let ca: string;

  before(async () => {
    home = await scratch();
    host = await startVendorHost({ seed: { products: defaultVendorSeed().products } });
    ca = join(home, "ca.pem");
    await writeFile(ca, host.caCertPem);
    entries = join(home, "entries");
    await mkdir(entries);
    const entry = (id: string, url: string) =>
      [
        `id: ${id}`,
        "name: Fixed",
        "publisher: Contoso",
        "installer: { type: msi }",
        `source: { kind: fixed, url: "${url}" }`,
        "",
      ].join("\n");
    await writeFile(
      join(entries, "fixed.yaml"),
      entry("Contoso.FixedUrlApp", `${host.origin}/latest/Contoso.FixedUrlApp/fixedurlapp.msi`),
    );
    // a fixed URL that serves a nullsoft exe, not an MSI
    await writeFile(
      join(entries, "notmsi.yaml"),
      entry("Contoso.NotMsi", `${host.origin}/latest/Contoso.Notes/notes.msi`),
    );
    config = join(home, "config.yaml");
    await writeFile(config, "profiles: {}\n");
    env = homeEnv(home, { XDG_CACHE_HOME: join(home, "cache") });
  });
  after(async () => host.close());

  const cli = (args: string[]) => runCli([...args, "--ca-certificate", ca, "--config", config, "--no-log-file"], env);
  const fixedRequests = () => host.admin.requests().filter((r) => r.url.startsWith("/latest/"));

  it("a fixed URL: show says the version is known only after download (nothing downloaded); download learns it, records it in the lock file and asks conditionally next time; show then uses the cached MSI", async () => {
    host.admin.clearRequests();
    const pending = await cli(["catalog", "show", "Contoso.FixedUrlApp", "--source", entries, "-o", "json"]);
    assert.equal(pending.code, 0, pending.stderr);
    const p = JSON.parse(pending.stdout) as ShowResult;
    assert.equal(p.version, null);
    assert.equal(p.definition, null);
    assert.match(p.pending!, /known only after download/);
    const table = await cli(["catalog", "show", "Contoso.FixedUrlApp", "--source", entries]);
    assert.match(table.stdout, /Version\s+\(known only after download\)/);
    assert.deepEqual(fixedRequests(), [], "show never downloads");

    const d = await cli(["catalog", "download", "Contoso.FixedUrlApp", "--source", entries, "-o", "json"]);
    assert.equal(d.code, 0, d.stderr);
    const got = JSON.parse(d.stdout) as { version: string; sha256: string; check: string };
    assert.equal(got.version, "1.0.0");
    assert.equal(got.sha256, JSIGN_SHA);
    assert.equal(got.check, "recorded");
    const lock = JSON.parse(await readFile(join(home, "catalog.lock.json"), "utf8")) as {
      downloads: { id: string; version: string; sha256: string; size: number; url: string }[];
    };
    assert.deepEqual(
      lock.downloads.map((r) => [r.id, r.version, r.sha256, r.size, r.url]),
      [["Contoso.FixedUrlApp", "1.0.0", JSIGN_SHA, 24576, `${host.origin}/latest/Contoso.FixedUrlApp/fixedurlapp.msi`]],
    );

    host.admin.clearRequests();
    const again = await cli(["catalog", "download", "Contoso.FixedUrlApp", "--source", entries, "-o", "json"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { fromCache: boolean }).fromCache, true);
    assert.deepEqual(
      fixedRequests().map((r) => [r.method, r.status, r.bytesSent]),
      [["GET", 304, 0]],
    );

    host.admin.clearRequests();
    const shown = await cli(["catalog", "show", "Contoso.FixedUrlApp", "--source", entries, "-o", "json"]);
    assert.equal(shown.code, 0, shown.stderr);
    const s = JSON.parse(shown.stdout) as ShowResult;
    assert.equal(s.version, "1.0.0");
    assert.deepEqual(s.definition?.detection, [
      {
        type: "msi",
        productCode: "{24E06469-048F-47B0-ADDF-E6D930C6DDE2}",
        operator: "greaterThanOrEqual",
        value: "1.0.0",
      },
    ]);
    assert.match(s.explanations[0]!, /last downloaded from the fixed URL .*Nothing was downloaded now/);
    assert.deepEqual(fixedRequests(), [], "show still never downloads");
  });

  it("a fixed URL known only through the lock file (download cache emptied): show names the recorded version and hash, downloads nothing, makes no definition", async () => {
    // the same configuration (so the lock file written above) with an empty download cache
    const emptyCache = { ...env, XDG_CACHE_HOME: join(home, "empty-cache") };
    host.admin.clearRequests();
    const r = await runCli(
      [
        ...["catalog", "show", "Contoso.FixedUrlApp", "--source", entries, "-o", "json"],
        ...["--ca-certificate", ca, "--config", config, "--no-log-file"],
      ],
      emptyCache,
    );
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as ShowResult;
    assert.equal(s.version, null);
    assert.equal(s.definition, null);
    assert.match(s.pending!, /known only after download/);
    assert.match(
      s.pending!,
      new RegExp(
        `The lock file records version 1\\.0\\.0 \\(SHA-256 ${JSIGN_SHA}, downloaded \\d{4}-[^)]+\\), but that file is no longer in the download cache\\.$`,
      ),
    );
    assert.deepEqual(fixedRequests(), [], "show never downloads");
  });

  it("a fixed URL serving something that is not an MSI is refused with the reason, and nothing is kept", async () => {
    const r = await cli(["catalog", "download", "Contoso.NotMsi", "--source", entries]);
    assert.equal(r.code, EXIT_CODES.input, r.stderr);
    assert.match(
      r.stderr,
      /The file at the fixed URL https:\/\/127\.0\.0\.1:\d+\/latest\/Contoso\.Notes\/notes\.msi is not an MSI/,
    );
    assert.match(r.stderr, /a feed \(source\.kind json, xml or github\)/);
    const cached = await readdir(join(home, "cache", "intune-publisher", "downloads", "sha256"));
    assert.deepEqual(cached, [JSIGN_SHA], "only the earlier MSI");
  });

  it("a zip with a nested MSI: show names the nested file; import writes the zip's files (not the zip) with the MSI's facts checked", async () => {
    const source = ["--source", `${host.origin}/`];
    const shown = await cli(["catalog", "show", "Contoso.ZipTool", ...source, "-o", "json"]);
    assert.equal(shown.code, 0, shown.stderr);
    const s = JSON.parse(shown.stdout) as ShowResult;
    assert.equal(s.installer.type, "zip");
    assert.equal((s.installer as { nestedType?: string }).nestedType, "msi");
    assert.deepEqual(s.content.extract, { archive: "ziptool-2.3.4-x64.zip", setupFile: "setup/tinyapp64.msi" });
    assert.equal(s.definition?.install.command, 'msiexec /i "setup\\tinyapp64.msi" /qn /norestart ALLUSERS=1');

    const out = join(home, "imported");
    const r = await cli(["catalog", "import", "Contoso.ZipTool", ...source, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const folder = join(out, "contoso.ziptool");
    assert.deepEqual((await readdir(join(folder, "source"))).sort(), ["README.txt", "setup"]);
    assert.deepEqual(await readdir(join(folder, "source", "setup")), ["tinyapp64.msi"]);
    const def = parse(await readFile(join(folder, "contoso.ziptool.yaml"), "utf8")) as {
      content: { setupFile: string };
      detection: unknown[];
    };
    assert.equal(def.content.setupFile, "setup/tinyapp64.msi");
    assert.deepEqual(def.detection, [
      {
        type: "msi",
        productCode: "{C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B}",
        operator: "greaterThanOrEqual",
        value: "2.3.4",
      },
    ]);
  });

  it("catalog download of a zip with a nested installer: the verified zip, and the unpacked folder with the nested installer's path (copied beside the zip with --out)", async () => {
    const source = ["--source", `${host.origin}/`];
    const r = await cli(["catalog", "download", "Contoso.ZipTool", ...source, "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as { path: string; sha256: string; unpacked: string; installer: string };
    assert.match(d.path, /downloads[\\/]sha256[\\/][0-9a-f]{64}$/, "the zip in the cache");
    assert.equal(d.installer, join(d.unpacked, "setup", "tinyapp64.msi"));
    assert.ok((await lstat(d.installer)).isFile(), "the nested installer is there");
    assert.deepEqual((await readdir(d.unpacked)).sort(), ["README.txt", "setup"]);

    const out = join(home, "downloaded");
    for (let i = 0; i < 2; i++) {
      // twice: a second run replaces the copies
      const o = await cli(["catalog", "download", "Contoso.ZipTool", ...source, "--out", out, "-o", "json"]);
      assert.equal(o.code, 0, o.stderr);
      const c = JSON.parse(o.stdout) as typeof d;
      assert.equal(c.path, join(out, "ziptool-2.3.4-x64.zip"));
      assert.equal(c.sha256, d.sha256);
      assert.equal(c.unpacked, join(out, "ziptool-2.3.4-x64"));
      assert.equal(c.installer, join(out, "ziptool-2.3.4-x64", "setup", "tinyapp64.msi"));
      assert.deepEqual((await readdir(out)).sort(), ["ziptool-2.3.4-x64", "ziptool-2.3.4-x64.zip"], "no partial left");
      assert.deepEqual((await readdir(c.unpacked)).sort(), ["README.txt", "setup"]);
      assert.deepEqual(await readFile(c.installer), await readFile(d.installer));
    }
    const table = await cli(["catalog", "download", "Contoso.ZipTool", ...source]);
    assert.match(table.stdout, /installer\s+\S+tinyapp64\.msi/);
  });
});
