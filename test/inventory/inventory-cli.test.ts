// `intune-publisher inventory` through the real CLI entry against a running local tenant: both reading paths give
// the same products, the cache, the export's faults (never a partial inventory shown or cached as complete).
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { defaultSeed } from "../../emulator/seed.js";
import { startLocalTenant } from "../../emulator/server.js";
import type { LocalTenant } from "../../emulator/server.js";
import { runCli } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant } from "../support/tenant.js";

const scratch = useScratch("ip-inventory-cli-");
const A = "d0000000-0000-4000-8000-00000000000a";
const B = "d0000000-0000-4000-8000-00000000000b";
const C = "d0000000-0000-4000-8000-00000000000c";

interface Product {
  name: string;
  devices: number;
  catalogId: string | null;
  confidence: number | null;
  reason: string | null;
  newestVersion: string | null;
  versions: { version: string; devices: number }[];
  outdatedDevices: number;
  published: boolean;
  subscribed: "file" | "auto" | null;
}
interface Report {
  inventory: { source: string; cached: boolean };
  products: Product[];
}

describe("inventory command", () => {
  let lt: LocalTenant;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const catalog = join(repoRoot(), "test", "fixtures", "winget", "pkgs");
  const cli = (...args: string[]) =>
    runCli(["inventory", "--cloud", "local", "--catalog", catalog, "--no-log-file", ...args], env);
  const jobs = () => Object.values(lt.admin.state()).flatMap((t) => t["deviceManagementExportJobs"] ?? []).length;

  before(async () => {
    home = await scratch();
    env = {
      HOME: home,
      XDG_STATE_HOME: join(home, "state"),
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_CACHE_HOME: join(home, "cache"),
      INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "emulator"),
    };
    const app = (id: string, displayName: string, version: string, publisher: string, deviceIds: string[]) => ({
      id,
      displayName,
      version,
      publisher,
      platform: "windows",
      sizeInByte: 0,
      deviceIds,
    });
    lt = await startLocalTenant({
      exportJobs: { startDelayMs: 50, runDelayMs: 50 },
      seed: {
        ...defaultSeed(),
        managedDevices: [A, B, C].map((id, i) => ({ id, deviceName: `PC-${i}`, operatingSystem: "Windows" })),
        detectedApps: [
          app("a1", "WinSCP 5.17.10", "5.17.10", "Martin Prikryl", [A, B]),
          app("a2", "WinSCP 6.5.7", "6.5.7", "Martin Prikryl", [C]),
          app("a3", "VLC media player", "3.0.20", "VideoLAN", [A]),
          app("a4", "Contoso Internal Tool", "1.0", "Contoso", [A, B, C]),
          app("a5", 'Fabrikam "Quoted", Tool', "2.0", "Fabrikam, Inc.", [B]),
        ],
      },
    });
    const stateDir = join(home, "emulator");
    await mkdir(stateDir, { recursive: true });
    await recordLocalTenant(stateDir, lt);
  });
  after(() => lt.close());

  let viaDetected: Report;

  it("detectedApps: products by device count, matched to the catalog, versions and outdated devices", async () => {
    const r = await cli("--via", "detected-apps", "--output", "json");
    assert.equal(r.code, 0, r.stderr);
    viaDetected = JSON.parse(r.stdout) as Report;
    assert.equal(viaDetected.inventory.source, "detectedApps");
    const byName = new Map(viaDetected.products.map((p) => [p.catalogId ?? p.name, p]));
    const winscp = byName.get("WinSCP.WinSCP");
    assert.ok(winscp, r.stdout);
    assert.equal(winscp.devices, 3);
    assert.equal(winscp.newestVersion, "6.5.7");
    assert.deepEqual(winscp.versions, [
      { version: "6.5.7", devices: 1 },
      { version: "5.17.10", devices: 2 },
    ]);
    assert.equal(winscp.outdatedDevices, 2, "5.17.10 is older than 6.5.7 in winget's order");
    const vlc = byName.get("VideoLAN.VLC");
    assert.ok(vlc && vlc.confidence !== null && vlc.confidence >= 0.9, JSON.stringify(vlc));
    const own = byName.get("Contoso Internal Tool");
    assert.equal(own?.catalogId, null);
    assert.equal(own?.devices, 3);
  });

  it("the export path gives the same products; a second run within --max-age reads the cache", async () => {
    const before = jobs();
    const r = await cli("--via", "export", "--refresh", "--output", "json");
    assert.equal(r.code, 0, r.stderr);
    const viaExport = JSON.parse(r.stdout) as Report;
    assert.equal(viaExport.inventory.source, "export");
    assert.deepEqual(viaExport.products, viaDetected.products);
    assert.equal(jobs(), before + 1);
    const again = await cli("--output", "json");
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as Report).inventory.cached, true);
    assert.match(again.stderr, /\(cached\)/);
    assert.equal(jobs(), before + 1, "no new export");
  });

  it("--unmatched, --min-devices and --output csv", async () => {
    const r = await cli("--unmatched", "--min-devices", "1", "--output", "csv");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^Product,Publisher,Devices,Catalog id/);
    assert.ok(lines.some((l) => l.startsWith("Contoso Internal Tool,Contoso,3,-")));
    assert.ok(lines.some((l) => l.startsWith('"Fabrikam ""Quoted"", Tool","Fabrikam, Inc.",1,')));
    assert.ok(!lines.some((l) => l.startsWith("WinSCP")));
  });

  it("mappings and exclusions from a rules file", async () => {
    const rules = join(home, "rules.yaml");
    await writeFile(
      rules,
      "inventory:\n  mappings:\n    - name: 'Contoso Internal*'\n      catalogId: Contoso.Tool\n  exclude:\n    - catalogId: VideoLAN.VLC\n",
    );
    const r = await cli("--rules", rules, "--output", "json");
    assert.equal(r.code, 0, r.stderr);
    const products = (JSON.parse(r.stdout) as Report).products;
    const own = products.find((p) => p.name === "Contoso Internal Tool");
    assert.deepEqual(
      [own?.catalogId, own?.confidence, own?.reason],
      ["Contoso.Tool", 1, "your mapping (the id is not in the catalog)"],
    );
    assert.ok(!products.some((p) => p.catalogId === "VideoLAN.VLC"));
    await writeFile(rules, "inventory:\n  mappings:\n    - name: x\n");
    const bad = await cli("--rules", rules);
    assert.equal(bad.code, 9, bad.stderr);
    assert.match(bad.stderr, /inventory\.mappings\.0\.catalogId/);
  });

  it("--subscriptions: the Subscribed/published column in JSON, CSV and the table; the file's inventory rules apply", async () => {
    const subs = join(home, "subs.yaml");
    await writeFile(subs, "products:\n  - id: WinSCP.WinSCP\ninventory:\n  exclude: [{ catalogId: VideoLAN.VLC }]\n");
    const json = await cli("--subscriptions", subs, "--output", "json");
    assert.equal(json.code, 0, json.stderr);
    const products = (JSON.parse(json.stdout) as Report).products;
    assert.deepEqual(
      products.map((p) => [p.catalogId ?? p.name, p.subscribed, p.published]),
      [
        ["Contoso Internal Tool", null, false],
        ["WinSCP.WinSCP", "file", false],
        ['Fabrikam "Quoted", Tool', null, false],
      ],
    );
    const csv = await cli("--subscriptions", subs, "--output", "csv");
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /,Outdated devices,Subscribed\/published$/);
    assert.match(lines.find((l) => l.startsWith("WinSCP")) ?? "", /,2,subscribed$/);
    assert.match(lines.find((l) => l.startsWith("Contoso")) ?? "", /,no$/);
    const table = await cli("--subscriptions", subs);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /Subscribed\/published/);
    assert.match(table.stdout, /WinSCP.*\s2\s+subscribed\s*$/m);
    await writeFile(subs, "products:\n  - id: WinSCP.WinSCP\n    mode: sometimes\n");
    const bad = await cli("--subscriptions", subs);
    assert.equal(bad.code, 9, bad.stderr);
    assert.match(bad.stderr, /subs\.yaml:3:\d+: products\[0\]\.mode: mode must be application or updateOnly/);
  });

  for (const [fault, message] of [
    ["malformedRow", /line 2 is not valid CSV/],
    ["truncatedZip", /not a complete zip/],
    ["fail", /export job .* failed/],
  ] as const) {
    it(`export fault ${fault}: exit 5 with a clear error, and the cached inventory is left as it was`, async () => {
      const cacheFile = join(home, "cache", "intune-publisher", "inventory", `${lt.tenantId}.json`);
      const cachedBefore = await readFile(cacheFile, "utf8");
      lt.admin.addExportJobFault(fault);
      const r = await cli("--via", "export", "--refresh", "--output", "json");
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "", "no inventory shown");
      assert.doesNotMatch(r.stderr, /sig=|\n\s+at /);
      assert.equal(await readFile(cacheFile, "utf8"), cachedBefore);
    });
  }

  it("an expired download URL is retried once with a new job; twice is an error", async () => {
    const before = jobs();
    lt.admin.addExportJobFault("expiredUrl");
    const ok = await cli("--via", "export", "--refresh", "--output", "json");
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as Report).products, viaDetected.products);
    assert.equal(jobs(), before + 2);
    lt.admin.addExportJobFault("expiredUrl");
    lt.admin.addExportJobFault("expiredUrl");
    const r = await cli("--via", "export", "--refresh");
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /download URL \(127\.0\.0\.1:\d+\) was refused \(403\)/);
    assert.doesNotMatch(r.stderr, /sig=/);
  });
});
