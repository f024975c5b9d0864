/**
 * The tenants file: read with its defaults, bad files refused with file:line:column (exit 9 through the CLI),
 * `--tenants` selection by name, tag and `all`, the per-tenant overrides, and the committed JSON Schema.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AppDefinitionError } from "../../src/core/app-definition/errors.js";
import { selectTenants } from "../../src/core/config/tenants.js";
import { loadSubscriptions } from "../../src/publish/sync/subscriptions.js";
import { loadTenants, tenantsJsonSchema } from "../../src/publish/tenants/file.js";
import { tenantAdjust, tenantSubscriptions } from "../../src/publish/tenants/overrides.js";
import { homeEnv, runCli } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";

const GOOD = `defaults: { profile: msp }
tenants:
  - name: contoso
    tenantId: 11111111-2222-4333-8444-555555555555
    tags: { ring: pilot }
    groups: { Workstations: "CONTOSO - Windows" }
    enrollmentStatusPages: { Default: "Contoso ESP" }
    scopeTags: [Contoso]
    exclude: [Vendor.Excluded]
    pin: { Vendor.Pinned: "1.2.3" }
  - name: fabrikam
    tenantId: fabrikam.onmicrosoft.com
    tags: { ring: broad }
`;

describe("tenants file", () => {
  const scratch = useScratch("ip-tenants-file-");
  const write = async (text: string): Promise<string> => {
    const file = join(await scratch(), "tenants.yaml");
    await writeFile(file, text);
    return file;
  };
  const problems = async (text: string): Promise<string[]> => {
    try {
      await loadTenants(await write(text));
    } catch (e) {
      assert.ok(e instanceof AppDefinitionError, String(e));
      return e.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
    }
    assert.fail("expected problems");
  };

  it("reads tenants; --tenants selects by name, tag or all, in file order", async () => {
    const f = (await loadTenants(await write(GOOD))).value;
    assert.deepEqual(
      selectTenants(f, ["all"]).tenants.map((t) => t.name),
      ["contoso", "fabrikam"],
    );
    assert.deepEqual(
      selectTenants(f, ["ring=broad"]).tenants.map((t) => t.name),
      ["fabrikam"],
    );
    assert.deepEqual(
      selectTenants(f, ["FABRIKAM,ring:pilot"]).tenants.map((t) => t.name),
      ["contoso", "fabrikam"],
    );
    assert.deepEqual(selectTenants(f, ["nobody", "ring=none"]).unknown, ["nobody", "ring=none"]);
  });

  it("refuses bad files at file:line:column", async () => {
    const ps = await problems(
      "tenants:\n  - name: a\n    tenantId: not a tenant\n  - name: b\n    tenantId: b.onmicrosoft.com\n    colour: red\n  - name: A\n    tenantId: a.onmicrosoft.com\n    pin: { X.Y: 1.5 }\n",
    );
    assert.ok(
      ps.some((p) => p.startsWith("3:15 tenantId is the tenant's GUID or a verified domain")),
      ps.join("\n"),
    );
    assert.ok(
      ps.some((p) => /^6:5 .*colour/.test(p)),
      ps.join("\n"),
    );
    assert.ok(
      ps.some((p) => p.startsWith('9:17 a pinned version must be quoted text (write "1.5")')),
      ps.join("\n"),
    );
    const twice = await problems(
      "tenants:\n  - name: a\n    tenantId: a.onmicrosoft.com\n  - name: A\n    tenantId: b.onmicrosoft.com\n",
    );
    assert.match(twice[0]!, /^4:11 The tenant name A is used twice/);
    const nowhere = await problems("tenants:\n  - name: a\n");
    assert.match(nowhere[0]!, /^2:\d+ A tenant needs tenantId/);
  });

  it("the CLI refuses a bad tenants file with exit 9 and an unknown --tenants value with exit 64, before any sign-in", async () => {
    const dir = await scratch();
    await writeFile(join(dir, "subscriptions.yaml"), "products:\n  - id: Vendor.Tool\n");
    await writeFile(join(dir, "bad.yaml"), "tenants:\n  - name: a\n    tenantId: 42\n");
    await writeFile(join(dir, "tenants.yaml"), GOOD);
    const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, "config"), XDG_STATE_HOME: join(dir, "state") };
    const subs = join(dir, "subscriptions.yaml");
    const bad = await runCli(
      ["sync", "--subscriptions", subs, "--tenants", "all", "--tenants-file", join(dir, "bad.yaml"), "--no-log-file"],
      env,
    );
    assert.equal(bad.code, 9, bad.stderr);
    assert.match(bad.stderr, /bad\.yaml:3:15: tenants\[0\]\.tenantId: tenantId must be text/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
    const unknown = await runCli(
      [
        "sync",
        "--subscriptions",
        subs,
        "--tenants",
        "ring=canary",
        "--tenants-file",
        join(dir, "tenants.yaml"),
        "--no-log-file",
      ],
      env,
    );
    assert.equal(unknown.code, 64, unknown.stderr);
    assert.match(unknown.stderr, /--tenants ring=canary: no tenant of .*tenants\.yaml has that name or tag/);
    assert.match(unknown.stderr, /contoso, fabrikam/);
  });

  it("applies a tenant's overrides: excluded and pinned products, groups, ESP profiles and scope tags", async () => {
    const f = (await loadTenants(await write(GOOD))).value;
    const dir = await scratch();
    await writeFile(
      join(dir, "subscriptions.yaml"),
      "products:\n  - id: Vendor.Excluded\n  - id: Vendor.Pinned\n  - id: Vendor.Other\n",
    );
    const subs = await loadSubscriptions(join(dir, "subscriptions.yaml"));
    const contoso = tenantSubscriptions(subs, f.tenants[0]!);
    assert.deepEqual(
      contoso.value.products.map((p) => [p.id, p.pin]),
      [
        ["Vendor.Pinned", "1.2.3"],
        ["Vendor.Other", undefined],
      ],
    );
    assert.equal(contoso.raw.length, 2);
    assert.equal(tenantSubscriptions(subs, f.tenants[1]!).value.products.length, 3);
    const adjust = tenantAdjust(f.tenants[0]!);
    const def = adjust.definition({
      enrollmentStatusPages: ["default", "Kiosk"],
      scopeTags: ["Default"],
    } as unknown as Parameters<typeof adjust.definition>[0]);
    assert.deepEqual(def.enrollmentStatusPages, ["Contoso ESP", "Kiosk"]);
    assert.deepEqual(def.scopeTags, ["Contoso"]);
    assert.deepEqual(adjust.assignment({ intent: "required", group: "workstations" } as never), {
      intent: "required",
      group: "CONTOSO - Windows",
    });
  });

  it("schemas/tenants.schema.json is what the zod schema generates (npm run build && node scripts/gen-schema.mjs)", async () => {
    const committed: unknown = JSON.parse(await readFile(join(repoRoot(), "schemas", "tenants.schema.json"), "utf8"));
    assert.deepEqual(committed, tenantsJsonSchema());
  });
});

describe("the configuration file's tenants: section", () => {
  const scratch = useScratch("ip-tenants-section-");
  const section = (body: string) => `profiles: {}\ntenants:\n  defaults: { cloud: local }\n  tenants:\n${body}`;

  it("is read in place of a tenants file; a bad tenant is positioned in the configuration file (exit 9)", async () => {
    const dir = await scratch();
    const config = join(dir, "config.yaml");
    await writeFile(
      config,
      section(
        "    - { name: contoso, tenantId: contoso.onmicrosoft.com }\n    - { name: fabrikam, tenantId: fabrikam.onmicrosoft.com }\n",
      ),
    );
    // the section's tenants are the ones --tenants chooses from (nothing is signed in to for an unknown name)
    const r = await runCli(["connect", "test", "--config", config, "--tenants", "litware"], homeEnv(dir), dir);
    assert.equal(r.code, 64, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`--tenants litware: no tenant of ${config.replace(/[.]/g, "\\.")} has that name`),
    );
    assert.match(r.stderr, /contoso, fabrikam/);

    await writeFile(
      config,
      section("    - { name: contoso, tenantId: contoso.onmicrosoft.com }\n    - { name: fabrikam, tenantid: x }\n"),
    );
    const bad = await runCli(["connect", "test", "--config", config, "--tenants", "all"], homeEnv(dir), dir);
    assert.equal(bad.code, 9, bad.stderr);
    assert.match(bad.stderr, new RegExp(`${config.replace(/[.]/g, "\\.")}:6:\\d+`));
    assert.match(bad.stderr, /tenantid/);
  });

  it("and a tenants file both given: refused naming both, nothing picked (exit 64)", async () => {
    const dir = await scratch();
    const config = join(dir, "config.yaml");
    await writeFile(config, section("    - { name: contoso, tenantId: contoso.onmicrosoft.com }\n"));
    await writeFile(join(dir, "mine.yaml"), "tenants:\n  - { name: other, tenantId: other.onmicrosoft.com }\n");
    for (const extra of [["--tenants-file", "mine.yaml"], []]) {
      if (extra.length === 0) await writeFile(join(dir, "tenants.yaml"), "tenants:\n  - { name: x, cloud: local }\n");
      const r = await runCli(["connect", "test", "--config", config, "--tenants", "all", ...extra], homeEnv(dir), dir);
      assert.equal(r.code, 64, r.stderr);
      const file = join(dir, extra.length === 0 ? "tenants.yaml" : "mine.yaml");
      assert.match(r.stderr, /Two lists of tenants/);
      assert.ok(r.stderr.includes(file) && r.stderr.includes(`tenants: section of ${config}`), r.stderr);
      assert.match(r.stderr, /Keep one/);
    }
  });
});
