// Editing a subscriptions file as the console does: the product added or changed with the file's comments kept, the
// result read back by the same check as sync, and a refused edit leaving the file as it was.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AppDefinitionError } from "../../core/app-definition/errors.js";
import { WingetFolderSource } from "../../catalog/sources/winget-folder.js";
import type { CatalogSource } from "../../catalog/catalog.js";
import { WINGET_PKGS } from "../../../test/support/winget.js";
import { checkSubscriptionsText, loadSubscriptions } from "./subscriptions.js";
import {
  removeSubscription,
  saveSubscription,
  STATUS_CONCURRENCY,
  subscriptionStatuses,
} from "./subscriptions-edit.js";

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

describe("removeSubscription", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("removes the one product named (id in any case, architecture, scope), keeping the rest and its comments", async () => {
    const d = await mkdtemp(join(tmpdir(), "subs-remove-"));
    dirs.push(d);
    const file = join(d, "subscriptions.yaml");
    await writeFile(
      file,
      [
        "# ours: kept",
        "products:",
        "  - id: Contoso.Notes # the x64 one",
        "  - id: Contoso.Notes",
        "    architecture: arm64 # kept",
        "  - id: Fabrikam.Viewer",
        "",
      ].join("\n"),
    );
    await removeSubscription(file, { id: "contoso.notes" });
    const text = await readFile(file, "utf8");
    assert.match(text, /^# ours: kept$/m);
    assert.match(text, /architecture: arm64 # kept/);
    assert.deepEqual(
      (await loadSubscriptions(file)).value.products.map((p) => [p.id, p.architecture]),
      [
        ["Contoso.Notes", "arm64"],
        ["Fabrikam.Viewer", "x64"],
      ],
    );
    await removeSubscription(file, { id: "Contoso.Notes", architecture: "arm64" });
    await removeSubscription(file, { id: "Fabrikam.Viewer", architecture: "x64", scope: "machine" });
    assert.deepEqual((await loadSubscriptions(file)).value.products, []);
    assert.match(await readFile(file, "utf8"), /^# ours: kept$/m);
  });

  it("refuses a product the file does not subscribe, the file untouched", async () => {
    const d = await mkdtemp(join(tmpdir(), "subs-remove-"));
    dirs.push(d);
    const file = join(d, "subscriptions.yaml");
    const text = "products:\n  - id: Contoso.Notes # mine\n";
    await writeFile(file, text);
    await assert.rejects(
      removeSubscription(file, { id: "Contoso.Notes", scope: "user" }),
      (e: unknown) =>
        e instanceof AppDefinitionError &&
        /Contoso\.Notes \(x64, user\) is not subscribed in this file/.test(e.message),
    );
    assert.equal(await readFile(file, "utf8"), text);
    await assert.rejects(removeSubscription(join(d, "none.yaml"), { id: "X.Y" }), /no subscriptions file/);
  });
});

describe("subscriptionStatuses", () => {
  it("asks the catalog for a few products at once, each status in the file's order", async () => {
    const ids = ["7zip.7zip", "Git.Git", "Greenshot.Greenshot", "PuTTY.PuTTY", "VideoLAN.VLC", "WinSCP.WinSCP"];
    const subs = checkSubscriptionsText(`products:\n${ids.map((i) => `  - id: ${i}\n`).join("")}`, "subs.yaml");
    const source = await WingetFolderSource.open(WINGET_PKGS);
    // Every product first asks for its source: count the asks under way before any is answered (the answer comes
    // one macrotask later, so asks made in the same pass are all still waiting).
    let waiting = 0;
    let most = 0;
    const sourceFor = async (): Promise<CatalogSource> => {
      most = Math.max(most, ++waiting);
      await new Promise((r) => setImmediate(r));
      waiting--;
      return source;
    };
    const statuses = await subscriptionStatuses(subs, sourceFor, []);
    assert.equal(most, STATUS_CONCURRENCY);
    assert.deepEqual(
      statuses.map((s) => s.id),
      ids,
    );
    for (const s of statuses) assert.equal(s.state, "not published", `${s.id}: ${s.state}`);
  });
});
