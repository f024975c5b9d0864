// A run against a real tenant loads no emulator code and no Azurite: the local tenant is reached only through the
// launcher port, whose one implementation imports the emulator lazily (src/publish/connect/local-tenant-launcher.ts).
// Each run is a child process with a preload that records every module URL it resolves.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";

const scratch = useScratch("ip-no-emulator-");
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "0b6f6a3e-2f1c-4c8e-9a43-5d2b1f6c7e80";

interface Run {
  code: number | null;
  stderr: string;
  modules: string[];
}

/** Runs the installed bin with the module recorder, in a home of its own. */
async function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const home = await scratch();
  const log = join(home, "modules.txt");
  const preload = pathToFileURL(join(repoRoot(), "dist", "test", "support", "module-log.js")).href;
  const child = spawn(
    process.execPath,
    ["--import", preload, join(repoRoot(), "bin", "intune-publisher.js"), ...args],
    {
      env: {
        PATH: process.env["PATH"] ?? "",
        HOME: home,
        XDG_CONFIG_HOME: join(home, "config"),
        XDG_STATE_HOME: join(home, "state"),
        MODULE_LOG_FILE: log,
        ...extraEnv,
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const code = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
  const modules = (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return { code, stderr, modules };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const emulatorModules = (modules: string[]): string[] =>
  modules.filter((u) => /\/dist\/emulator\//.test(u) || /\/node_modules\/azurite\//.test(u));

describe("a run against a real tenant loads no emulator module", () => {
  it("publish --dry-run and connect test with --cloud global: nothing under emulator/ or node_modules/azurite", async () => {
    // The proxy is a closed loopback port: sign-in fails as a network error (exit 7), nothing leaves the machine.
    const proxy = `http://127.0.0.1:${await closedPort()}`;
    const tenant = ["--cloud", "global", "--tenant", TENANT, "--client-id", CLIENT, "--proxy", proxy, "--no-log-file"];
    const env = { AZURE_CLIENT_SECRET: "not-a-real-secret" };
    const definition = join(repoRoot(), "examples", "apps", "contoso-notes.yaml");
    for (const args of [
      ["publish", definition, "--dry-run", ...tenant],
      ["connect", "test", ...tenant],
    ]) {
      const r = await run(args, env);
      assert.equal(r.code, 7, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(
        r.modules.some((u) => u.endsWith("/dist/src/publish/target.js")),
        "the recorder saw the publish code",
      );
      assert.deepEqual(emulatorModules(r.modules), [], args.join(" "));
    }
  });

  it("the recorder sees the emulator when a run does start a local tenant (connect test --cloud local)", async () => {
    const state = await scratch();
    const r = await run(["connect", "test", "--cloud", "local", "--state", state, "--no-log-file"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Starting a local tenant in-process/);
    assert.ok(
      r.modules.some((u) => u.endsWith("/dist/emulator/server.js")),
      "emulator/server.js recorded",
    );
  });
});
