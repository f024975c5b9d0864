// The run log of a publish holds the storage calls (Put Block, Put Block List and their retries) as it holds the Graph
// calls: redacted, with no SAS signature.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { homeEnv, runCli } from "../support/cli.js";
import { copyExamples } from "../support/fixtures.js";
import { useScratch } from "../support/scratch.js";
import { readCleanLog } from "../support/secrets.js";
import { recordLocalTenant, startTestTenant } from "../support/tenant.js";
import type { TestTenant } from "../support/tenant.js";

const scratch = useScratch("ip-publish-runlog-");

describe("publish run log", () => {
  let t: TestTenant;
  let home: string;
  before(async () => {
    t = await startTestTenant();
    home = await scratch();
    await recordLocalTenant(join(home, "emulator"), t.lt);
  });
  after(async () => {
    await t.close();
  });

  it("logs Put Block, its retry after a 503, and Put Block List, without the SAS signature", async () => {
    const ex = await copyExamples(await scratch());
    const file = ex.files.find((f) => f.includes("contoso-notes")) ?? "";
    t.lt.admin.addFault({ method: "PUT", path: ".", query: "comp=block(&|$)", status: 503, retryAfter: 1, count: 1 });
    const env = homeEnv(home, { INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "emulator") });
    const r = await runCli(["publish", file], env);
    assert.equal(r.code, 0, r.stderr);
    const path = /^Log file: (.*)$/m.exec(r.stderr)?.[1] ?? "";
    assert.ok(path !== "", r.stderr);
    const events = await readCleanLog(path, []);
    const storage = events.filter((e) => /[?&]comp=block(list)?(&|$)/.test(String(e["url"] ?? "")));
    const answers = (query: RegExp) =>
      storage.filter((e) => query.test(String(e["url"])) && e["status"] !== undefined).map((e) => e["status"]);
    assert.deepEqual(answers(/comp=block(&|$)/).slice(0, 2), [503, 201], "the refused Put Block and its retry");
    assert.deepEqual(answers(/comp=blocklist/), [201]);
    for (const e of storage) {
      assert.doesNotMatch(String(e["url"]), /[?&]sig=(?!REDACTED)/, "a SAS signature in the log");
      assert.match(String(e["url"]), /[?&]sig=REDACTED/);
    }
    const text = JSON.stringify(events);
    assert.doesNotMatch(text, /sig=(?!REDACTED)[A-Za-z0-9%]/);
  });
});
