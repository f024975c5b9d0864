import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { COMMANDS, loadCommand } from "../src/cli/commands/index.js";
import { EXIT_CODES } from "../src/cli/exit-codes.js";
import { specsOf } from "../src/cli/options.js";
import { runCli } from "./support/cli.js";
import { repoRoot } from "./support/paths.js";

const version = (JSON.parse(readFileSync(join(repoRoot(), "package.json"), "utf8")) as { version: string }).version;

describe("cli", () => {
  it("--version prints the package version", async () => {
    const r = await runCli(["--version"], {});
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), version);
  });

  it("--help lists every command", async () => {
    const r = await runCli(["--help"], {});
    assert.equal(r.code, 0);
    for (const name of Object.keys(COMMANDS)) assert.match(r.stdout, new RegExp(`^  ${name} `, "m"));
  });

  it("no arguments prints help and exits with the usage code", async () => {
    const r = await runCli([], {});
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stdout, /Usage: intune-publisher <command>/);
  });

  for (const name of Object.keys(COMMANDS)) {
    it(`${name} --help shows its usage and summary, and lists every option it accepts`, async () => {
      const command = await loadCommand(name);
      const r = await runCli([...name.split(" "), "--help"], {});
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Usage: intune-publisher ${name}`));
      const summary = COMMANDS[name]!.summary;
      assert.equal(r.stdout.split("\n")[0], summary);
      const top = await runCli(["--help"], {});
      const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      assert.match(top.stdout, new RegExp(`^  ${name} +${escape(summary.slice(0, 40))}`, "m"));
      for (const s of specsOf(command.options)) {
        if (s.kind === "argument") {
          assert.match(r.stdout, new RegExp(`^  ${s.meta.value.replace(/[.|]/g, "\\$&")}  `, "m"));
          continue;
        }
        const label = `--${s.flag}${s.type === "string" ? ` ${s.meta.value ?? "VALUE"}` : ""}`;
        assert.ok(r.stdout.includes(label), `${name} --help lists ${label}`);
        if (s.meta.short !== undefined) assert.ok(r.stdout.includes(`-${s.meta.short}, --${s.flag}`));
        // Accepted: parsed without "Unknown option" (--help stops before the command runs).
        const value = s.type === "string" ? ["x"] : [];
        const a = await runCli([...name.split(" "), `--${s.flag}`, ...value, "--help"], {});
        assert.equal(a.code, 0, `${name} --${s.flag}: ${a.stderr}`);
      }
      // …and nothing else: every flag named in the option lists is one of them.
      const listed = [...r.stdout.matchAll(/^ {2}(?:-\w, | {4})--([a-z-]+)/gm)].map((m) => m[1]);
      const declared = specsOf(command.options).flatMap((s) => (s.kind === "option" ? [s.flag] : []));
      assert.deepEqual(listed.sort(), declared.sort());
    });
  }

  it("an unknown option is refused with the usage exit code, naming it", async () => {
    for (const args of [
      ["publish", "a.yaml", "--frobnicate"],
      ["apps", "list", "--dry-run"],
      ["package", "-z"],
    ]) {
      const r = await runCli(args, {});
      assert.equal(r.code, EXIT_CODES.usage, args.join(" "));
      assert.match(r.stderr, /^error: Unknown option '-(-frobnicate|-dry-run|z)'\./m);
      assert.match(r.stderr, new RegExp(`hint: Run \`intune-publisher ${args[0]}( list)? --help\``));
    }
  });

  it("flags are kebab-case in messages; arguments are numbered", async () => {
    const out = await runCli(["unpack", "x.intunewin"], {});
    assert.equal(out.code, EXIT_CODES.usage);
    assert.match(out.stderr, /error: --out is required\./);
    const c = await runCli(["publish", "a.yaml", "--concurrency", "0", "--no-log-file"], {});
    assert.match(c.stderr, /error: --concurrency must be a whole number from 1\./);
    const show = await runCli(["apps", "show"], {});
    assert.equal(show.code, EXIT_CODES.usage);
    assert.match(show.stderr, /error: Argument 1 is required\./);
  });

  it("a group alone lists its commands: `apps` lists apps list, show and remove", async () => {
    const r = await runCli(["apps"], {});
    assert.equal(r.code, EXIT_CODES.usage);
    assert.doesNotMatch(r.stderr, /Unknown command/);
    for (const sub of ["list", "show", "remove"]) assert.match(r.stdout, new RegExp(`^  apps ${sub} +\\S`, "m"));
    assert.doesNotMatch(r.stdout, /connect test/);
    const help = await runCli(["connect", "--help"], {});
    assert.equal(help.code, 0);
    for (const sub of ["init", "test", "setup"]) assert.match(help.stdout, new RegExp(`^  connect ${sub} `, "m"));
    const emulator = await runCli(["emulator"], {});
    assert.match(emulator.stdout, /^ {2}emulator start +Run the local tenant/m);
  });

  it("an unknown command gets a did-you-mean", async () => {
    const cases: [string[], RegExp][] = [
      [["pubish"], /Did you mean `intune-publisher publish`\?/],
      [["inpsect", "x.msi"], /Did you mean `intune-publisher inspect`\?/],
      [
        ["apps", "lsit"],
        /Did you mean `intune-publisher apps list`\? The apps commands: apps list, apps show, apps remove\./,
      ],
      [["emulater", "start"], /Did you mean `intune-publisher emulator start`\?/],
      [["conect"], /Did you mean `intune-publisher connect`\?/],
    ];
    for (const [args, hint] of cases) {
      const r = await runCli(args, {});
      assert.equal(r.code, EXIT_CODES.usage, args.join(" "));
      assert.match(
        r.stderr,
        new RegExp(`^error: Unknown command "${args[0] === "apps" ? "apps lsit" : args[0]}"\\.`, "m"),
      );
      assert.match(r.stderr, hint);
    }
    const far = await runCli(["frobnicate"], {});
    assert.doesNotMatch(far.stderr, /Did you mean/);
    assert.match(far.stderr, /hint: Run `intune-publisher --help` to list the commands\./);
  });

  it("rejects an unknown --output format", async () => {
    const r = await runCli(["inspect", "x.intunewin", "--output", "xml"], {});
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /--output must be json, yaml, table or csv/);
  });

  it("rejects an extra positional argument", async () => {
    const r = await runCli(["inspect", "a.msi", "b.msi"], {});
    assert.equal(r.code, EXIT_CODES.usage);
    assert.match(r.stderr, /Unexpected argument "b.msi"/);
  });

  it("--help and a group's listing load no command module (the summaries are in the registry)", () => {
    const dir = mkdtempSync(join(tmpdir(), "ip-help-"));
    try {
      const preload = pathToFileURL(join(repoRoot(), "dist", "test", "support", "module-log.js")).href;
      for (const args of [["--help"], ["apps"]]) {
        const log = join(dir, `${args[0]}.txt`);
        const r = spawnSync(
          process.execPath,
          ["--import", preload, join(repoRoot(), "bin", "intune-publisher.js"), ...args],
          { encoding: "utf8", env: { ...process.env, MODULE_LOG_FILE: log } },
        );
        assert.match(r.stdout, /Commands:/);
        const modules = readFileSync(log, "utf8").split("\n");
        assert.ok(
          modules.some((u) => u.endsWith("/dist/src/cli/commands/index.js")),
          "the recorder works",
        );
        assert.deepEqual(
          modules.filter((u) => /\/dist\/src\/cli\/commands\/(?!index\.js)/.test(u)),
          [],
          args.join(" "),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the installed bin runs the compiled CLI", () => {
    const r = spawnSync(process.execPath, [join(repoRoot(), "bin", "intune-publisher.js"), "--version"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
  });
});
