import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { COMMANDS } from "../src/cli/commands/index.js";
import { EXIT_CODES } from "../src/cli/exit-codes.js";
import { runCli } from "./support/cli.js";
import { repoRoot } from "./support/paths.js";

const version = (JSON.parse(readFileSync(join(repoRoot(), "package.json"), "utf8")) as { version: string }).version;

describe("cli", () => {
  it("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), version);
  });

  it("--help lists every command", async () => {
    const r = await runCli(["--help"]);
    assert.equal(r.code, 0);
    for (const name of Object.keys(COMMANDS)) assert.match(r.stdout, new RegExp(`^  ${name} `, "m"));
  });

  it("no arguments prints help and exits with the usage code", async () => {
    const r = await runCli([]);
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stdout, /Usage: intune-publisher <command>/);
  });

  for (const name of Object.keys(COMMANDS)) {
    it(`${name} --help shows its usage`, async () => {
      const r = await runCli([...name.split(" "), "--help"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Usage: intune-publisher ${name}`));
    });
  }

  it("rejects an unknown --output format", async () => {
    const r = await runCli(["inspect", "x.intunewin", "--output", "xml"]);
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /--output must be json or table/);
  });

  it("rejects an extra positional argument", async () => {
    const r = await runCli(["inspect", "a.msi", "b.msi"]);
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /Unexpected argument "b.msi"/);
  });

  it("the installed bin runs the compiled CLI", () => {
    const r = spawnSync(process.execPath, [join(repoRoot(), "bin", "intune-publisher.js"), "--version"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
  });
});
