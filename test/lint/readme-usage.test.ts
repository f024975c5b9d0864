// The README's usage block is what a new user copies: every line in it is a command that exists and takes the
// options shown (checked with --help, through the real CLI entry), and every command of the CLI is in it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { COMMANDS } from "../../src/cli/commands/index.js";
import { runCli } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";

/** The lines of the README's "## Usage" block, as words after `npx intune-publisher`. */
function usageLines(): string[][] {
  const readme = readFileSync(join(repoRoot(), "README.md"), "utf8");
  const block = /^## Usage\n[\s\S]*?```sh\n([\s\S]*?)```/m.exec(readme);
  assert.ok(block, "README.md has a ## Usage section with a sh block");
  return block[1]!
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      assert.match(l, /^npx intune-publisher( |$)/, `a usage line runs the CLI: ${l}`);
      return l.split(/\s+/).slice(2);
    });
}

/** The command a line runs: its longest leading words that name one. */
function commandOf(words: readonly string[]): string | undefined {
  const two = words.slice(0, 2).join(" ");
  if (two in COMMANDS) return two;
  return words[0] !== undefined && words[0] in COMMANDS ? words[0] : undefined;
}

describe("README usage", () => {
  const lines = usageLines();

  it("every command of the CLI is in the usage block", () => {
    const shown = new Set(lines.map(commandOf));
    const missing = Object.keys(COMMANDS).filter((c) => !shown.has(c));
    assert.deepEqual(missing, [], "commands missing from README.md's usage block");
  });

  it("every line runs with --help: the command exists and takes each option shown", async () => {
    const env = { HOME: "/nonexistent-home" };
    for (const words of lines) {
      const command = commandOf(words);
      if (words.length === 1 && words[0] === "--help") {
        const r = await runCli(["--help"], env);
        assert.equal(r.code, 0, r.stderr);
        continue;
      }
      assert.ok(command, `README usage names a command that does not exist: ${words.join(" ")}`);
      const r = await runCli([...command.split(" "), "--help"], env);
      assert.equal(r.code, 0, `${command} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: intune-publisher ${command}\\b`, "m"));
      for (const flag of words.filter((w) => w.startsWith("--")))
        assert.ok(r.stdout.includes(`${flag} `) || r.stdout.includes(`${flag}\n`), `${command} takes ${flag}`);
    }
  });
});
