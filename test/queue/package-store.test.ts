// The shared package store: a package built by one worker's publish run is found by another's (its own work
// folder), so it is not built again; both apps get committed content in the local tenant. A folder store and an
// Azure Blob store on the local tenant's Azurite.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ACCOUNT_KEY } from "../../emulator/storage/index.js";
import type { PublishEvent } from "../../src/publish/publish.js";
import { BlobPackageStore, FolderPackageStore } from "../../src/queue/package-store.js";
import type { PackageStore } from "../../src/queue/package-store.js";
import { copyExamples, load } from "../support/fixtures.js";
import { useScratch } from "../support/scratch.js";
import { startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";

const scratch = useScratch("ip-pkgstore-");

describe("shared package store", () => {
  let tenant: PublishTenant;
  before(async () => {
    tenant = await startPublishTenant();
  });
  after(async () => tenant.close());

  /** Two definitions with the same content; "worker" 1 publishes the first, "worker" 2 the second. */
  async function twoWorkers(store: PackageStore, suffix: string) {
    const root = await scratch();
    const { dir } = await copyExamples(root);
    const a = join(dir, "contoso-notes.yaml");
    const b = join(dir, `contoso-notes-${suffix}.yaml`);
    const text = await readFile(a, "utf8");
    await writeFile(a, text.replace("id: contoso-notes", `id: notes-a-${suffix}`));
    await writeFile(b, text.replace("id: contoso-notes", `id: notes-b-${suffix}`).replace("Contoso Notes", "Notes B"));
    const events: PublishEvent[][] = [[], []];
    const runs = [];
    for (const [k, file] of [a, b].entries())
      runs.push(
        await tenant.publish(await load([file]), {
          workDir: join(root, `worker-${k}`),
          packageStore: store,
          onEvent: (e) => events[k]!.push(e),
        }),
      );
    const steps = events.map((es) =>
      es.filter((e) => e.type === "step" && e.step === "package").map((e) => (e as { detail: string }).detail),
    );
    return { runs, steps };
  }

  for (const kind of ["folder", "blob"] as const)
    it(`${kind}: the second worker finds the package and does not build it; both apps are committed`, async () => {
      const store: PackageStore =
        kind === "folder"
          ? new FolderPackageStore(join(await scratch(), "store"))
          : new BlobPackageStore(`${tenant.lt.blobEndpoint}/ipub-packages`, {
              accountKey: ACCOUNT_KEY,
              caPem: tenant.lt.caCertPem,
            });
      const { runs, steps } = await twoWorkers(store, kind);
      assert.equal(steps[0]!.length, 1);
      assert.match(steps[0]![0]!, /^package /, "worker 1 builds");
      assert.equal(steps[1]!.length, 1);
      assert.match(steps[1]![0]!, /^reuse the package from the shared store/, "worker 2 reuses");
      assert.deepEqual(store.stats, { hits: 1, misses: 1, puts: 1 });
      for (const r of runs) {
        assert.equal(r.outcomes[0]!.status, "ok", JSON.stringify(r.outcomes[0]!.error));
        assert.ok(r.outcomes[0]!.contentVersionId !== undefined, "content committed");
      }
    });
});
