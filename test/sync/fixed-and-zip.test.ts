/**
 * sync of the two products that need the installer itself: a catalog entry with a fixed URL (its version is the
 * MSI's ProductVersion) and a winget zip with a nested MSI (unpacked, nested file checked). End to end on the local
 * tenant and the vendor host's built-in demo products (the fixed URL `/latest/<id>/…` serves the newest version's
 * MSI; publishing a version replaces the bytes there).
 */
import assert from "node:assert/strict";
import { appendFile, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { defaultVendorSeed } from "../../emulator/vendor/default-seed.js";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import type { PublishEvent } from "../../src/publish/publish.js";
import { NESTED_ZIP_LIMITS } from "../../src/catalog/download/nested.js";
import { craftZip } from "../support/crafted.js";
import type { CraftedEntry } from "../support/crafted.js";
import { fixture } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { startSyncBed } from "./support.js";
import type { SyncBed } from "./support.js";

type App = Record<string, unknown> & {
  id: string;
  notes?: string;
  displayVersion?: string;
  setupFilePath?: string;
  installCommandLine?: string;
  detectionRules?: { productCode?: string; productVersion?: string }[];
};

describe("sync: fixed-URL catalog entries and zips with a nested installer", () => {
  const scratch = useScratch("ip-sync-fixed-");
  let bed: SyncBed;
  let dir: string;
  let entries: string;

  before(async () => {
    dir = await scratch();
    bed = await startSyncBed(dir, { products: defaultVendorSeed().products });
    entries = join(dir, "entries");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(entries);
    await writeFile(
      join(entries, "fixed.yaml"),
      [
        "id: Contoso.FixedUrlApp",
        "name: Contoso Fixed",
        "publisher: Contoso",
        "installer: { type: msi }",
        `source: { kind: fixed, url: "${bed.host.origin}/latest/Contoso.FixedUrlApp/fixedurlapp.msi" }`,
        "",
      ].join("\n"),
    );
  });
  after(async () => bed.close());
  beforeEach(() => bed.host.admin.clearFaults());

  const appsOf = (defId: string): App[] =>
    (bed.tenant.apps() as App[]).filter((a) => {
      const s = readStamp(a.notes ?? "");
      return s.status === "valid" && s.stamp.id === defId;
    });
  const fixedYaml = () =>
    `products:\n  - id: Contoso.FixedUrlApp\n    source: ${JSON.stringify(entries)}\n    assignments: [{ intent: available, target: allUsers }]\n`;
  const fixedRequests = () => bed.host.admin.requests().filter((r) => r.url.startsWith("/latest/"));

  it("a fixed URL: publishes the MSI's ProductVersion, asks conditionally next time (304, nothing downloaded), publishes version 2 when the bytes at the URL change, and refuses a changed file with the same ProductVersion", async () => {
    const first = await bed.run(fixedYaml());
    const p1 = first.products[0]!;
    assert.equal(p1.status, "ok", JSON.stringify(p1));
    assert.equal(p1.action, "create");
    assert.equal(p1.version, "1.0.0", "jsign-minimal.msi's ProductVersion");
    const [v1] = appsOf(p1.definitionId!);
    assert.equal(v1?.displayVersion, "1.0.0");
    assert.deepEqual(
      v1.detectionRules?.map((r) => [r.productCode, r.productVersion]),
      [["{24E06469-048F-47B0-ADDF-E6D930C6DDE2}", "1.0.0"]],
      "detection: the MSI's product code, version ≥ its ProductVersion",
    );
    const lock = JSON.parse(await readFile(join(dir, "catalog.lock.json"), "utf8")) as {
      downloads: { id: string; version: string; url: string; size: number; sha256: string }[];
    };
    const row = lock.downloads.find((r) => r.id === "Contoso.FixedUrlApp");
    assert.equal(row?.version, "1.0.0");
    assert.equal(row.sha256, "e6539854cfe4bb68192ce5f6bae250327b8bd908fc817226b56b9d1b65548af0");
    assert.equal(row.size, 24576);
    assert.match(row.url, /\/latest\/Contoso\.FixedUrlApp\/fixedurlapp\.msi$/);

    // nothing new: one conditional request, answered 304 without a body; no Graph write
    bed.host.admin.clearRequests();
    const writes = bed.tenant.calls.length;
    const again = await bed.run(fixedYaml());
    assert.equal(again.products[0]!.action, "nothing", again.products[0]!.reason);
    assert.deepEqual(
      fixedRequests().map((r) => [r.method, r.status, r.bytesSent]),
      [["GET", 304, 0]],
      "asked with the recorded ETag: nothing downloaded",
    );
    assert.deepEqual(bed.tenant.graphWrites(writes), []);

    // the vendor publishes 2.3.4: the same URL now serves another MSI
    await bed.host.admin.publish({
      id: "Contoso.FixedUrlApp",
      name: "Fixed",
      publisher: "Contoso",
      versions: [
        {
          version: "2.3.4",
          installers: [
            {
              architecture: "x64",
              type: "msi",
              content: { path: fixture("msi", "tinyapp64-2.3.4-x64.msi") },
              fileName: "fixedurlapp.msi",
            },
          ],
        },
      ],
    });
    const second = await bed.run(fixedYaml());
    assert.equal(second.products[0]!.action, "new-version", JSON.stringify(second.products[0]));
    assert.equal(second.products[0]!.version, "2.3.4");
    const apps = appsOf(p1.definitionId!);
    assert.equal(apps.length, 1, "in place");
    assert.equal(apps[0]!.displayVersion, "2.3.4");

    // a dry run downloads nothing: a conditional HEAD; 304 plans from the cached MSI
    bed.host.admin.clearRequests();
    const dry = await bed.run(fixedYaml(), { dryRun: true });
    assert.equal(dry.products[0]!.action, "nothing", dry.products[0]!.reason);
    assert.deepEqual(
      fixedRequests().map((r) => [r.method, r.status]),
      [["HEAD", 304]],
    );

    // same ProductVersion, other bytes (the `changed` fault: 16 more bytes, a new ETag): refused, tenant unchanged
    bed.host.admin.addFault({ kind: "changed", path: "^/latest/" });
    const dryChanged = await bed.run(fixedYaml(), { dryRun: true });
    assert.equal(dryChanged.products[0]!.status, "planned");
    assert.match(dryChanged.products[0]!.reason, /fixed URL serves a file this machine has not downloaded/);
    const before = JSON.stringify(appsOf(p1.definitionId!));
    const writes2 = bed.tenant.calls.length;
    const refused = await bed.run(fixedYaml());
    const r = refused.products[0]!;
    assert.equal(r.status, "failed", JSON.stringify(r));
    assert.equal(r.error?.errorCode, "LockMismatch");
    assert.match(r.error!.message, /\/latest\/Contoso\.FixedUrlApp\/fixedurlapp\.msi/);
    assert.match(r.error!.message, /Contoso\.FixedUrlApp 2\.3\.4/);
    assert.match(
      r.error!.message,
      /expected SHA-256 03fb4e3b3782312eec0cd06b0f13ffa49090c01bf3326c7378b7d765d2e9e08b, got [0-9a-f]{64}/,
    );
    assert.equal(refused.failed, true);
    assert.deepEqual(bed.tenant.graphWrites(writes2), [], "nothing written to Graph");
    assert.equal(JSON.stringify(appsOf(p1.definitionId!)), before);
  });

  it("a zip with a nested MSI: unpacked, installed through the nested file, detected by its product code; a second sync downloads nothing", async () => {
    const yaml = "products:\n  - id: Contoso.ZipTool\n    assignments: [{ intent: required, target: allDevices }]\n";
    const first = await bed.run(yaml);
    const p = first.products[0]!;
    assert.equal(p.status, "ok", JSON.stringify(p));
    assert.equal(p.action, "create");
    const [app] = appsOf(p.definitionId!);
    assert.equal(app?.setupFilePath, "setup\\tinyapp64.msi");
    assert.match(app.installCommandLine!, /^msiexec \/i "setup\\tinyapp64\.msi" \/qn \/norestart ALLUSERS=1$/);
    assert.equal(app.detectionRules?.[0]?.productCode, "{C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B}");
    // the staged content folder holds the zip's files, not the zip
    const staged = join(dir, "work", p.definitionId!, "source");
    assert.deepEqual((await readdir(staged)).sort(), ["README.txt", "setup"]);
    assert.deepEqual(await readdir(join(staged, "setup")), ["tinyapp64.msi"]);

    bed.host.admin.clearRequests();
    const again = await bed.run(yaml);
    assert.equal(again.products[0]!.action, "nothing", again.products[0]!.reason);
    assert.equal(bed.installerRequests(), 0, "nothing downloaded");
  });

  const zipYaml = (extra = "") =>
    `products:\n  - id: Contoso.ZipTool\n    assignments: [{ intent: required, target: allDevices }]\n${extra}`;
  /** The cache's unpacked folder of the demo zip (named by the zip's SHA-256; the one holding its README.txt). */
  const unpackedZipTool = async (): Promise<string> => {
    const root = join(dir, "cache", "unpacked");
    const names = (await readdir(root)).filter((n) => /^[0-9a-f]{64}$/.test(n));
    const found = [];
    for (const n of names) if ((await readdir(join(root, n))).includes("README.txt")) found.push(join(root, n));
    assert.equal(found.length, 1, "one unpacked demo zip");
    return found[0]!;
  };
  const packageEvents = (events: PublishEvent[]) =>
    events.filter((e) => e.type === "package" || (e.type === "step" && e.step === "package"));

  it("a zip with nothing new: the second sync downloads nothing, packages nothing, writes no installer byte to the stage (hard links to the cache) and nothing to Graph", async () => {
    const first = await bed.run(zipYaml());
    assert.equal(first.products[0]!.status, "ok", JSON.stringify(first.products[0]));
    const defId = first.products[0]!.definitionId!;
    const staged = join(dir, "work", defId, "source");
    const cached = await unpackedZipTool();
    const inodes = async (root: string) =>
      Promise.all(["README.txt", "setup/tinyapp64.msi"].map(async (f) => (await stat(join(root, f))).ino));
    const cacheInodes = await inodes(cached);
    assert.deepEqual(await inodes(staged), cacheInodes, "staged as links to the unpacked files, not copies");

    bed.host.admin.clearRequests();
    const writes = bed.tenant.calls.length;
    const events: PublishEvent[] = [];
    const again = await bed.run(zipYaml(), { onEvent: (e) => events.push(e) });
    assert.equal(again.products[0]!.action, "nothing", again.products[0]!.reason);
    assert.equal(bed.installerRequests(), 0, "nothing downloaded");
    assert.deepEqual(packageEvents(events), [], "nothing packaged");
    assert.deepEqual(await inodes(staged), cacheInodes, "no file of the zip written again");
    assert.deepEqual(bed.tenant.graphWrites(writes), [], "nothing written to Graph");
  });

  it("a zip's unpacked folder changed in the cache after it was unpacked: the next sync unpacks it again from the verified zip and publishes the original bytes (nothing new)", async () => {
    const first = await bed.run(zipYaml());
    assert.equal(first.products[0]!.status, "ok", JSON.stringify(first.products[0]));
    const cached = await unpackedZipTool();
    const readme = await readFile(join(cached, "README.txt"));
    // a changed file (same size, other bytes), then an added one
    await writeFile(join(cached, "README.txt"), Buffer.from(readme.map((b) => b ^ 0x20)));
    await appendFile(join(cached, "setup", "extra.txt"), "not from the zip\n");
    const writes = bed.tenant.calls.length;
    bed.host.admin.clearRequests();
    const r = await bed.run(zipYaml());
    assert.equal(r.products[0]!.action, "nothing", r.products[0]!.reason);
    assert.equal(r.products[0]!.status, "ok");
    assert.deepEqual(bed.tenant.graphWrites(writes), [], "the tenant's package (the original bytes) stays");
    assert.equal(bed.installerRequests(), 0, "the zip in the cache (verified) is unpacked again, not downloaded");
    assert.deepEqual(await readFile(join(cached, "README.txt")), readme);
    assert.deepEqual((await readdir(join(cached, "setup"))).sort(), ["tinyapp64.msi"]);
    const staged = join(dir, "work", r.products[0]!.definitionId!, "source");
    assert.deepEqual(await readFile(join(staged, "README.txt")), readme);
    assert.deepEqual(await readdir(join(staged, "setup")), ["tinyapp64.msi"]);
  });

  it("a zip's nested MSI is read as catalog import reads it: the MSI's ProductCode for detection when the manifest has none, its UpgradeCode for update-only", async () => {
    const msi = await readFile(fixture("msi", "tinyapp64-2.3.4-x64.msi"));
    await bed.host.admin.publish({
      id: "Contoso.ZipNoCodes",
      name: "Zip without codes",
      publisher: "Contoso",
      versions: [
        {
          version: "2.3.4",
          installers: [
            {
              architecture: "x64",
              type: "zip",
              content: {
                base64: craftZip([{ name: "setup/app.msi", data: msi }]).toString("base64"),
              },
              fields: { NestedInstallerType: "msi", NestedInstallerFiles: [{ RelativeFilePath: "setup\\app.msi" }] },
            },
          ],
        },
      ],
    });
    const r = await bed.run(
      "products:\n  - id: Contoso.ZipNoCodes\n    mode: updateOnly\n    assignments: [{ intent: required, target: allDevices }]\n",
    );
    const p = r.products[0]!;
    assert.equal(p.status, "ok", JSON.stringify(p));
    const [app] = appsOf(p.definitionId!);
    assert.ok(app, "published");
    assert.deepEqual(
      app.detectionRules?.map((d) => [d.productCode, d.productVersion]),
      [["{C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B}", "2.3.4"]],
      "the nested MSI's ProductCode and ProductVersion",
    );
    assert.match(String(app["uninstallCommandLine"]), /^msiexec \/x \{C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B\}/);
    const rules = app["requirementRules"] as Record<string, unknown>[];
    const upgrade = rules.filter((x) => x["@odata.type"] === "#microsoft.graph.win32LobAppRegistryRequirement");
    assert.deepEqual(
      upgrade.map((x) => [x["keyPath"], x["detectionType"]]),
      [["HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\Installer\\UpgradeCodes\\D6C7B8A9F4E51304291807F6E5D4C3B2", "exists"]],
      "the nested MSI's UpgradeCode {9A8B7C6D-5E4F-4031-9281-706F5E4D3C2B}, packed",
    );
    assert.ok(
      rules.every((x) => x["@odata.type"] !== "#microsoft.graph.win32LobAppPowerShellScriptRequirement"),
      "no requirement script: the UpgradeCode is known",
    );
  });

  it("hostile zips (an entry with .., a symbolic link, too many entries, the nested file missing) are refused with the reason, nothing staged, nothing unpacked, nothing published", async () => {
    const msi = await readFile(fixture("msi", "tinyapp64-2.3.4-x64.msi"));
    const good = { name: "setup/app.msi", data: msi };
    const zips: Record<string, { entries: CraftedEntry[]; code: string; why: RegExp }> = {
      "Evil.DotDot": {
        entries: [good, { name: "../../outside.txt", data: Buffer.from("escaped") }],
        code: "UnsafeEntry",
        why: /outside/,
      },
      "Evil.Symlink": {
        entries: [
          good,
          {
            name: "setup/link",
            data: Buffer.from("/etc"),
            versionMadeBy: (3 << 8) | 20,
            externalAttributes: 0o120777 * 0x10000,
          },
        ],
        code: "SymlinkEntry",
        why: /symbolic link/,
      },
      "Evil.Many": {
        entries: [
          good,
          ...Array.from({ length: NESTED_ZIP_LIMITS.maxEntries }, (_, i) => ({
            name: `f/${i}`,
            data: Buffer.alloc(0),
          })),
        ],
        code: "TooManyEntries",
        why: new RegExp(`limit of ${NESTED_ZIP_LIMITS.maxEntries}`),
      },
      "Evil.Missing": {
        entries: [{ name: "other/app.msi", data: msi }],
        code: "NestedInstallerMissing",
        why: /has no file setup\/app\.msi/,
      },
    };
    for (const [id, z] of Object.entries(zips))
      await bed.host.admin.publish({
        id,
        name: id,
        publisher: "Evil",
        versions: [
          {
            version: "1.0.0",
            installers: [
              {
                architecture: "x64",
                type: "zip",
                content: { base64: craftZip(z.entries).toString("base64") },
                fields: { NestedInstallerType: "msi", NestedInstallerFiles: [{ RelativeFilePath: "setup\\app.msi" }] },
              },
            ],
          },
        ],
      });
    const apps = bed.tenant.apps().length;
    const writes = bed.tenant.calls.length;
    const before = await listTree(dirname(dir));
    const result = await bed.run(
      `products:\n${Object.keys(zips)
        .map((id) => `  - id: ${id}\n    assignments: [{ intent: available, target: allUsers }]\n`)
        .join("")}`,
    );
    for (const [k, id] of Object.keys(zips).entries()) {
      const r = result.products[k]!;
      assert.equal(r.id, id);
      assert.equal(r.status, "failed", JSON.stringify(r));
      assert.equal(r.error?.errorCode, zips[id]!.code, r.reason);
      assert.match(r.error!.message, zips[id]!.why);
      assert.match(
        r.error!.message,
        new RegExp(`^${id.replace(".", "\\.")} 1\\.0\\.0: the zip downloaded from https://`),
      );
      assert.equal(r.error!.kind, "input");
    }
    assert.equal(bed.tenant.apps().length, apps);
    assert.deepEqual(bed.tenant.graphWrites(writes), []);
    // Only the downloaded zips entered the cache (and sync's own index and resolved records): nothing was unpacked
    // (in the cache or elsewhere) or staged.
    const added = (await listTree(dirname(dir))).filter((f) => !before.includes(f));
    const unexpected = added.filter(
      (f) => !/\/(cache\/(sha256|partial)|index|resolved)\//.test(f) && !f.endsWith("subscriptions.yaml"),
    );
    assert.deepEqual(unexpected, []);
    const unpacked = (await listTree(join(dir, "cache", "unpacked"))).filter((f) => /evil|outside|link/i.test(f));
    assert.deepEqual(unpacked, []);
  });
});

/** Every file under a folder (paths), symbolic links included. */
async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(p);
    }
  };
  await walk(root);
  return out;
}
