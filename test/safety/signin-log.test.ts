/**
 * A sign-in that fails leaves its trace in the run log for every command that signs in, as docs/cli.md promises:
 * `publish` and `apps list` with a wrong client secret against a running local tenant log the token request and
 * Entra's answer with its AADSTS code, through the same redaction as Graph calls, and never the secret.
 */
import assert from "node:assert/strict";
import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LocalTenant } from "../../emulator/server.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { runCli } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, startLocalTestTenant } from "../support/tenant.js";

const scratch = useScratch("ip-signin-log-");
const WRONG_SECRET = "Wrong~secret.VALUE_9876543210-zyxwvutsrq";

describe("a failed sign-in is in the run log of publish and apps", () => {
  let lt: LocalTenant;
  let home: string;
  let definition: string;

  before(async () => {
    lt = await startLocalTestTenant({ storage: false });
    home = await scratch();
    const state = join(home, "emulator");
    await recordLocalTenant(state, lt, { clientSecret: WRONG_SECRET });
    definition = join(home, "contoso-notes.yaml");
    await cp(join(repoRoot(), "examples", "apps", "contoso-notes.yaml"), definition);
    await cp(join(repoRoot(), "examples", "apps", "contoso-notes"), join(home, "contoso-notes"), { recursive: true });
  });

  after(async () => {
    await lt.close();
  });

  for (const [name, args] of [
    ["publish", () => ["publish", definition, "--dry-run"]],
    ["apps list", () => ["apps", "list"]],
  ] as const) {
    it(`${name} with a wrong secret: exit 3, the token request and AADSTS7000215 in the log, no secret`, async () => {
      const log = join(home, `${name.replace(" ", "-")}.jsonl`);
      const r = await runCli([...args(), "--log-file", log], {
        HOME: home,
        XDG_STATE_HOME: join(home, "state"),
        XDG_CONFIG_HOME: join(home, "config"),
        INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "emulator"),
      });
      assert.equal(r.code, EXIT_CODES.auth, r.stderr);
      assert.match(r.stderr, /AADSTS7000215/);
      assert.match(r.stderr, new RegExp(`hint: .*${log.replace(/[.\\/]/g, "\\$&")}`));
      const text = await readFile(log, "utf8");
      for (const s of [
        WRONG_SECRET,
        encodeURIComponent(WRONG_SECRET),
        new URLSearchParams({ s: WRONG_SECRET }).toString().slice(2),
      ]) {
        assert.ok(!(r.stdout + r.stderr + text).includes(s), "the secret appears");
      }
      const lines = text
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const tokenUrl = new RegExp(`^https://127\\.0\\.0\\.1:\\d+/${lt.tenantId}/oauth2/v2\\.0/token`);
      const request = lines.find(
        (l) => l["method"] === "POST" && tokenUrl.test(String(l["url"])) && l["status"] === undefined,
      );
      const answer = lines.find(
        (l) => l["method"] === "POST" && tokenUrl.test(String(l["url"])) && l["status"] === 401,
      );
      assert.ok(request, `no token request in the log:\n${text}`);
      assert.ok(answer, `no token answer in the log:\n${text}`);
      assert.match(String(answer["message"]), /AADSTS7000215/);
      assert.match(String(answer["message"]), /"error_codes":\[7000215\]/);
      assert.match(String(request["message"]), /body=<\d+ bytes>/, "the form body shows as its size only");
    });
  }
});
