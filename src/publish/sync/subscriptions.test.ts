import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AppDefinitionError } from "../../core/app-definition/errors.js";
import { repoRoot } from "../../../test/support/paths.js";
import { useScratch } from "../../../test/support/scratch.js";
import { loadSubscriptions, subscriptionsJsonSchema } from "./subscriptions.js";

describe("subscriptions file", () => {
  const scratch = useScratch("ip-subs-");
  const load = async (text: string) => {
    const file = join(await scratch(), "subscriptions.yaml");
    await writeFile(file, text);
    return loadSubscriptions(file);
  };
  const problems = async (text: string): Promise<string[]> => {
    try {
      await load(text);
    } catch (e) {
      assert.ok(e instanceof AppDefinitionError, String(e));
      return e.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
    }
    assert.fail("expected problems");
  };

  it("reads products with their defaults and keeps the values as written", async () => {
    const s = await load('products:\n  - id: Contoso.Tool\n    pin: "1.10"\n');
    const p = s.value.products[0]!;
    assert.equal(p.mode, "application");
    assert.equal(p.strategy, "inPlace");
    assert.equal(p.architecture, "x64");
    assert.equal(p.pin, "1.10");
    assert.deepEqual(s.raw[0], { id: "Contoso.Tool", pin: "1.10" });
  });

  it("refuses update-only with an Enrollment Status Page, at file:line:column, with the fix", async () => {
    const [p] = await problems(
      "products:\n  - id: Contoso.Tool\n    mode: updateOnly\n    enrollmentStatusPages: [Default]\n",
    );
    assert.match(p!, /^4:28 An updateOnly app cannot be in an Enrollment Status Page.*use mode: application/);
  });

  it("positions unknown keys, a number as pin, keep without supersede, and a product subscribed twice", async () => {
    const ps = await problems(
      [
        "products:",
        "  - id: Contoso.Tool",
        "    pinn: x",
        "  - id: Contoso.B",
        "    pin: 1.10",
        "  - id: Contoso.C",
        "    keep: 3",
        "",
      ].join("\n"),
    );
    assert.ok(
      ps.some((p) => p.startsWith('3:5 Unknown key "pinn"')),
      ps.join("\n"),
    );
    assert.ok(
      ps.some((p) => p.startsWith('5:10 pin must be quoted text (write "1.1")')),
      ps.join("\n"),
    );
    assert.ok(
      ps.some((p) => p.startsWith("7:11 keep and supersedence apply to strategy: supersede")),
      ps.join("\n"),
    );
    const twice = await problems("products:\n  - id: Contoso.Tool\n  - id: contoso.tool\n");
    assert.match(twice[0]!, /^3:9 contoso\.tool \(x64, machine\) is subscribed twice/);
  });

  it("reads autoPublish with its defaults and the inventory rules it matches with", async () => {
    const s = await load(
      "products: []\ninventory:\n  exclude: [{ name: 'Edge*' }]\nautoPublish:\n  minDevices: 500\n  exclude: [Google.*]\n",
    );
    assert.deepEqual(s.value.autoPublish, {
      minDevices: 500,
      mode: "updateOnly",
      exclude: ["Google.*"],
      minConfidence: 0.7,
    });
    assert.deepEqual(s.value.inventory, { mappings: [], exclude: [{ name: "Edge*" }] });
  });

  it("positions autoPublish problems: a missing minDevices, an unknown mode, an unknown key, a bad exclude", async () => {
    const ps = await problems(
      ["products: []", "autoPublish:", "  mode: always", "  exclude: [1]", "  minDevice: 5", ""].join("\n"),
    );
    for (const want of [
      /^2:1 minDevices is required\./,
      /^3:9 autoPublish\.mode must be updateOnly, application or both\./,
      /^4:13 An autoPublish\.exclude entry is a catalog id or a pattern/,
      /^5:3 Unknown key "minDevice"/,
    ])
      assert.ok(
        ps.some((p) => want.test(p)),
        `${String(want)} in\n${ps.join("\n")}`,
      );
    const zero = await problems("products: []\nautoPublish: { minDevices: 0 }\n");
    assert.match(zero[0]!, /^2:\d+ minDevices must be 1 or more\./);
  });

  it("schemas/subscriptions.schema.json is what the zod schema generates (npm run build && node scripts/gen-schema.mjs)", async () => {
    const committed: unknown = JSON.parse(
      await readFile(join(repoRoot(), "schemas", "subscriptions.schema.json"), "utf8"),
    );
    assert.deepEqual(committed, subscriptionsJsonSchema());
  });
});
