// Editing a subscriptions file as the console does: the product added or changed with the file's comments kept, the
// result read back by the same check as sync, and a refused edit leaving the file as it was.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AppDefinitionError } from "../../core/app-definition/errors.js";
import { loadSubscriptions } from "./subscriptions.js";
import { saveSubscription } from "./subscriptions-edit.js";

describe("saveSubscription", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const scratch = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), "subs-edit-"));
    dirs.push(d);
    return d;
  };

  it("adds a product without overrides to a file with other sections, keeping its comments", async () => {
    const file = join(await scratch(), "subscriptions.yaml");
    await writeFile(file, "# ours\nproducts: [] # none yet\nautoPublish:\n  minDevices: 3 # three\n");
    await saveSubscription(file, {
      id: "Contoso.TinyApp",
      mode: "application",
      assignments: [{ intent: "required", target: "allDevices" }],
    });
    const text = await readFile(file, "utf8");
    assert.match(text, /^# ours$/m);
    assert.match(text, /minDevices: 3 # three/);
    const loaded = await loadSubscriptions(file);
    assert.equal(loaded.value.autoPublish?.minDevices, 3);
    assert.deepEqual(
      loaded.value.products.map((p) => [p.id, p.mode, p.overrides]),
      [["Contoso.TinyApp", "application", undefined]],
    );
  });

  it("changes the product in place, removes cleared overrides, and refuses an invalid edit untouched", async () => {
    const file = join(await scratch(), "subscriptions.yaml");
    await writeFile(
      file,
      "products:\n  - id: Contoso.Notes # keep me\n    overrides:\n      install: { command: a.exe }\n",
    );
    await saveSubscription(file, { id: "contoso.notes", mode: "updateOnly", assignments: [], pin: "3.1.0" });
    const text = await readFile(file, "utf8");
    assert.match(text, /# keep me/);
    const p = (await loadSubscriptions(file)).value.products;
    assert.deepEqual(
      p.map((x) => [x.id, x.mode, x.pin, x.overrides]),
      [["Contoso.Notes", "updateOnly", "3.1.0", undefined]],
    );
    await assert.rejects(
      saveSubscription(file, { id: "Contoso.Notes", mode: "updateOnly", assignments: [], keep: 3 }),
      (e: unknown) =>
        e instanceof AppDefinitionError &&
        /subscriptions\.yaml:\d+:\d+: products\[0\]\.keep: keep and supersedence apply to strategy: supersede/.test(
          e.message,
        ),
    );
    assert.equal(await readFile(file, "utf8"), text);
  });
});
