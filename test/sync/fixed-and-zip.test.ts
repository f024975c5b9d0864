/**
 * sync of the two products that need the installer itself: a catalog entry with a fixed URL (its version is the
 * MSI's ProductVersion) and a winget zip with a nested MSI (unpacked, nested file checked). End to end on the local
 * tenant and the vendor host's built-in demo products (the fixed URL `/latest/<id>/…` serves the newest version's
 * MSI; publishing a version replaces the bytes there).
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { defaultVendorSeed } from "../../emulator/vendor/default-seed.js";
import { readStamp } from "../../src/core/app-definition/stamp.js";
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
