// kill -9 of a publishing process at several points, then a re-run (a re-run after kill -9 mid-upload
// at any point resumes: one app, committed). The child (child-publish.ts) runs the publish use case with a journal
// folder and freezes at the point; this process kills it with SIGKILL there, then publishes the same definition
// again with the same journal folder and checks the tenant: one app, its content committed, resumed where it could.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { CONTENT_FILES } from "../../emulator/graph/repositories.js";
import type { FileRecord } from "../../emulator/graph/repositories.js";
import { readStamp } from "../../src/core/app-definition/stamp.js";
import { describeFailure } from "../../src/publish/publish.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { load } from "../support/fixtures.js";
import { startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";

const scratch = useScratch("ip-publish-kill-");

/** What the re-run must find, per kill point. */
const POINTS = [
  { point: "created", journal: false, resumed: false, action: "new-version" },
  { point: "file", journal: true, resumed: true, action: "new-version" },
  { point: "blocks", journal: true, resumed: true, action: "new-version" },
  { point: "blockList", journal: true, resumed: true, action: "new-version" },
  { point: "commit", journal: true, resumed: true, action: "new-version" },
  { point: "patch", journal: true, resumed: false, action: "nothing" },
] as const;

describe("kill -9 while publishing, then re-run", () => {
  let t: PublishTenant;
  let caPath: string;

  before(async () => {
    t = await startPublishTenant();
    caPath = join(await scratch(), "ca.pem");
    await writeFile(caPath, t.lt.caCertPem);
  });
  after(async () => {
    await t.close();
  });

  /** contoso-notes with ~600 kB of random content (about 10 blocks of 64 KiB), in a fresh folder. */
  async function definition(): Promise<{ file: string; journalDir: string }> {
    const dir = await scratch();
    const examples = join(repoRoot(), "examples", "apps");
    await cp(join(examples, "contoso-notes"), join(dir, "contoso-notes"), { recursive: true });
    await cp(join(examples, "contoso-notes.yaml"), join(dir, "contoso-notes.yaml"));
    await writeFile(join(dir, "contoso-notes", "source", "app", "data.bin"), randomBytes(600_000));
    return { file: join(dir, "contoso-notes.yaml"), journalDir: join(dir, "state") };
  }

  async function killAt(point: string, file: string, journalDir: string): Promise<void> {
    const self = fileURLToPath(import.meta.url);
    const ts = self.endsWith(".ts");
    const child = join(dirname(self), `child-publish${ts ? ".ts" : ".js"}`);
    const proc = spawn(process.execPath, [...(ts ? ["--import", "tsx"] : []), child], {
      env: {
        ...process.env,
        PUBLISH_CHILD_CA: caPath,
        PUBLISH_CHILD_TOKEN: t.lt.admin.issueToken(),
        PUBLISH_CHILD_GRAPH: t.lt.graphBaseUrl,
        PUBLISH_CHILD_DEFINITION: file,
        PUBLISH_CHILD_JOURNAL_DIR: journalDir,
        PUBLISH_CHILD_WORK_DIR: join(dirname(journalDir), "work"),
        PUBLISH_CHILD_POINT: point,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise((r) => proc.on("exit", r));
    const killed = await new Promise<boolean>((resolve) => {
      let out = "";
      proc.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes(`at ${point}\n`)) resolve(proc.kill("SIGKILL"));
      });
      proc.on("exit", () => resolve(false));
    });
    await exited;
    assert.ok(killed, `the child was killed at ${point} (stderr: ${stderr.slice(0, 800)})`);
    assert.equal(proc.signalCode, "SIGKILL");
  }

  for (const p of POINTS) {
    it(`killed at "${p.point}": the re-run ends with one app, its content committed`, async () => {
      t.lt.admin.reset();
      const { file, journalDir } = await definition();
      await killAt(p.point, file, journalDir);

      const journalPath = join(journalDir, "contoso-notes.upload.json");
      assert.equal(existsSync(journalPath), p.journal, "a journal exactly when a content file was registered");
      const journal = p.journal
        ? (JSON.parse(await readFile(journalPath, "utf8")) as { fileId: string; blockCount: number })
        : undefined;
      assert.equal(t.apps().length, 1, "the killed run created the app");

      const r = await t.publish(await load([file]), { journalDir });
      const o = r.outcomes[0]!;
      assert.equal(o.status, "ok", describeFailure(o));
      assert.equal(o.action, p.action);
      if (p.action === "new-version") {
        assert.equal(o.strategy, "in-place", "the app without committed content is finished in place");
        assert.equal(o.upload?.resumed, p.resumed);
        if (p.point === "blocks")
          assert.ok(
            o.upload!.blocksSent > 0 && o.upload!.blocksSent < o.upload!.blockCount,
            `only the missing blocks: ${o.upload!.blocksSent} of ${o.upload!.blockCount}`,
          );
        if (p.point === "blockList" || p.point === "commit") assert.equal(o.upload?.blocksSent, 0);
        if (p.point === "file") assert.equal(o.upload?.blocksSent, o.upload?.blockCount);
      }

      const apps = t.apps();
      assert.equal(apps.length, 1, "one app");
      const app = apps[0]!;
      assert.equal(app["id"], o.appId);
      assert.equal(app["committedContentVersion"], "1", "one content version, committed");
      assert.equal(app["publishingState"], "published");
      assert.equal(readStamp(app["notes"] as string).status, "valid");
      const state = t.lt.admin.state()[t.lt.tenantId]!;
      assert.equal((state["mobileAppContentVersions"] ?? []).length, 1, "no second content version");
      const files = (state[CONTENT_FILES] ?? []) as unknown as FileRecord[];
      assert.deepEqual(
        files.map((f) => f.file.uploadState),
        ["commitFileSuccess"],
      );
      if (journal !== undefined) assert.equal(files[0]!.id, journal.fileId, "the killed run's content file");
      if (p.action === "new-version") assert.equal(existsSync(journalPath), false, "journal removed");
    });
  }
});
