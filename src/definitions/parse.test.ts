import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DefinitionProblem } from "../core/app-definition/errors.js";
import { AppDefinitionError } from "../core/app-definition/errors.js";
import { assertContentSize } from "./load.js";
import { parseAppDefinition } from "./parse.js";

const FILE = "/defs/app.yaml";

const BASE = `id: contoso-tool
displayName: Contoso Tool
publisher: Contoso
version: "1.0.0"
content:
  source: src
  setupFile: install.ps1
install:
  command: install.cmd
uninstall:
  command: uninstall.cmd
detection:
  - type: file
    path: '%ProgramFiles%\\Contoso'
    fileOrFolderName: tool.exe
`;

function problems(text: string): DefinitionProblem[] {
  try {
    parseAppDefinition(text, FILE);
  } catch (e) {
    assert.ok(e instanceof AppDefinitionError, String(e));
    assert.equal(e.kind, "input");
    assert.equal(e.code, "InvalidAppDefinition");
    for (const p of e.problems) assert.ok(e.message.includes(`${FILE}:${p.line}:${p.column}: `), e.message);
    return [...e.problems];
  }
  assert.fail("expected the definition to be refused");
}

/** The single problem of `text`, as `line:column field: message`. */
function only(text: string): { where: string; field: string; message: string } {
  const ps = problems(text);
  assert.equal(ps.length, 1, JSON.stringify(ps, null, 1));
  const p = ps[0]!;
  assert.equal(p.file, FILE);
  return { where: `${p.line}:${p.column}`, field: p.path.join("."), message: p.message };
}

const rule = (i: number) => `  - type: registry\n    keyPath: HKLM\\SOFTWARE\\R${i}\n`;

describe("parseAppDefinition", () => {
  it("accepts a minimal definition and applies the defaults", () => {
    const { definition } = parseAppDefinition(BASE, FILE);
    assert.equal(definition.install.runAs, "system");
    assert.equal(definition.install.maxRunTimeInMinutes, 60);
    assert.equal(definition.updateStrategy, "in-place");
    assert.deepEqual(definition.requirements, {
      minimumWindowsRelease: "2H20",
      architectures: ["x64", "x86"],
      rules: [],
    });
    assert.equal(definition.returnCodes, undefined);
    assert.equal(definition.detection[0]?.type === "file" && definition.detection[0].check, "exists");
  });

  it("accepts JSON", () => {
    const json = JSON.stringify(
      {
        $schema: "../schemas/app-definition.schema.json",
        id: "x",
        displayName: "X",
        publisher: "P",
        version: "1",
        content: { package: "x.intunewin" },
        install: { command: "a" },
        uninstall: { command: "b" },
        detection: [{ type: "msi", productCode: "{23170F69-40C1-2702-2408-000001000000}" }],
      },
      null,
      2,
    );
    assert.equal(parseAppDefinition(json, "/defs/x.json").definition.id, "x");
  });

  describe("YAML errors carry file:line:column", () => {
    it("syntax error", () => {
      const ps = problems(`${BASE}requirements:\n  architectures: [x64, arm64\n`);
      assert.ok(ps.length >= 1);
      assert.match(ps[0]!.message, /^YAML syntax error: /);
      assert.ok(ps[0]!.line! >= 17, `line ${ps[0]!.line}`);
    });
    it("bad indentation", () => {
      const ps = problems("id: x\n  displayName: y\n");
      assert.match(ps[0]!.message, /^YAML syntax error: Nested mappings are not allowed in compact mappings$/);
      assert.deepEqual([ps[0]!.line, ps[0]!.column], [1, 5]);
    });
    it("duplicate key", () => {
      const ps = problems(`${BASE}publisher: Again\n`);
      assert.match(ps[0]!.message, /YAML syntax error: Map keys must be unique/);
      assert.equal(ps[0]!.line, 16);
    });
    it("unknown key at the top level, at the key", () => {
      assert.deepEqual(only(`${BASE}dispalyVersion: "1"\n`), {
        where: "16:1",
        field: "dispalyVersion",
        message: 'Unknown key "dispalyVersion" (keys are camelCase; see docs/app-definitions.md).',
      });
    });
    it("unknown key inside a rule", () => {
      const p = only(
        BASE.replace("    fileOrFolderName: tool.exe\n", "    fileOrFolderName: tool.exe\n    detectionType: exists\n"),
      );
      assert.deepEqual([p.where, p.field], ["16:5", "detection.0.detectionType"]);
    });
    it("wrong type, at the value", () => {
      assert.deepEqual(
        only(BASE.replace("  command: install.cmd\n", "  command: install.cmd\n  maxRunTimeInMinutes: soon\n")),
        {
          where: "10:24",
          field: "install.maxRunTimeInMinutes",
          message: "install.maxRunTimeInMinutes must be a number of minutes.",
        },
      );
    });
    it("a version YAML reads as a number", () => {
      const p = only(BASE.replace('version: "1.0.0"', "version: 1.10"));
      assert.equal(p.where, "4:10");
      assert.match(p.message, /quoted text: YAML reads 1.1 as a number/);
    });
    it("a missing required field points at its parent", () => {
      const p = only(BASE.replace("uninstall:\n  command: uninstall.cmd\n", "uninstall: {}\n"));
      assert.deepEqual([p.where, p.field, p.message], ["10:1", "uninstall.command", "uninstall.command is required."]);
      const top = only(BASE.replace("publisher: Contoso\n", ""));
      assert.deepEqual([top.where, top.field, top.message], ["1:1", "publisher", "publisher is required."]);
    });
    it("an unknown rule type and a bad enum literal", () => {
      assert.deepEqual(only(BASE.replace("  - type: file", "  - type: wmi")).field, "detection.0.type");
      const p = only(`${BASE}requirements:\n  minimumWindowsRelease: v10_1903\n`);
      assert.deepEqual([p.where, p.field], ["17:26", "requirements.minimumWindowsRelease"]);
      assert.match(p.message, /must be one of 1607, .*Windows11_23H2/);
    });
    it("cross-field rules carry a sentence", () => {
      const p = only(
        BASE.replace(
          "    fileOrFolderName: tool.exe\n",
          '    fileOrFolderName: tool.exe\n    check: version\n    value: "1.0"\n',
        ),
      );
      assert.deepEqual(
        [p.where, p.field, p.message],
        ["13:5", "detection.0.operator", "A version comparison needs an operator."],
      );
      const q = only(BASE.replace("  setupFile: install.ps1\n", "  setupFile: install.ps1\n  package: x.intunewin\n"));
      assert.equal(q.field, "content.source");
      assert.match(q.message, /either `package`.*or `source` \+ `setupFile`, not both/);
    });
    it("an empty file and a list are refused", () => {
      assert.equal(
        only("").message,
        "The file is empty: an app definition is a YAML mapping (docs/app-definitions.md).",
      );
      assert.equal(
        only("# nothing\n").message,
        "The file is empty: an app definition is a YAML mapping (docs/app-definitions.md).",
      );
      assert.equal(only("- a\n- b\n").message, "The app definition must be a mapping of keys to values.");
    });
    it("reports every problem, in file order", () => {
      const ps = problems(
        BASE.replace("id: contoso-tool", "id: Contoso Tool").replace("publisher: Contoso", "publisher: 3"),
      );
      assert.deepEqual(
        ps.map((p) => [p.line, p.path.join(".")]),
        [
          [1, "id"],
          [3, "publisher"],
        ],
      );
    });
  });

  describe("Intune limits, each with its field and line", () => {
    it("one MSI detection rule", () => {
      const msi = "  - type: msi\n    productCode: '{23170F69-40C1-2702-2408-000001000000}'\n";
      const p = only(`${BASE}${msi}${msi}`);
      assert.deepEqual([p.where, p.field], ["18:5", "detection.2"]);
      assert.match(p.message, /only one MSI product-code detection rule/);
    });
    it("one script detection rule", () => {
      const text = BASE.replace(
        /detection:[\s\S]*$/,
        "detection:\n  - type: script\n    script: a.ps1\n  - type: script\n    script: b.ps1\n",
      );
      const p = only(text);
      assert.deepEqual([p.where, p.field], ["15:5", "detection.1"]);
      assert.match(p.message, /only one script detection rule/);
    });
    it("a script detection rule is not mixed with manual rules", () => {
      const p = only(`${BASE}  - type: script\n    script: detect.ps1\n`);
      assert.deepEqual([p.where, p.field], ["16:5", "detection.1"]);
      assert.match(p.message, /must be the only detection rule/);
    });
    it("at most 25 detection rules", () => {
      const text = BASE + Array.from({ length: 25 }, (_, i) => rule(i)).join("");
      const p = only(text);
      assert.deepEqual([p.where, p.field], [`${16 + 24 * 2}:5`, "detection.25"]);
      assert.match(p.message, /at most 25 detection rules; this definition has 26/);
      only(BASE + Array.from({ length: 24 }, (_, i) => rule(i)).join("") + "foo: 1\n"); // 25 rules are fine
    });
    it("at most 25 requirement rules", () => {
      const text = `${BASE}requirements:\n  rules:\n${Array.from({ length: 26 }, (_, i) => `  ${rule(i).replace("\n    ", "\n      ")}`).join("")}`;
      const p = only(text);
      assert.deepEqual([p.where, p.field], [`${18 + 25 * 2}:7`, "requirements.rules.25"]);
      assert.match(p.message, /At most 25 requirement rules/);
    });
    it("at least one detection rule", () => {
      const p = only(BASE.replace(/detection:[\s\S]*$/, "detection: []\n"));
      assert.deepEqual([p.where, p.field], ["12:12", "detection"]);
      assert.match(p.message, /at least one rule/);
    });
    it("maxRunTimeInMinutes between 1 and 1440", () => {
      const p = only(BASE.replace("  command: install.cmd\n", "  command: install.cmd\n  maxRunTimeInMinutes: 1441\n"));
      assert.deepEqual([p.where, p.field], ["10:24", "install.maxRunTimeInMinutes"]);
      assert.match(p.message, /at most 1440/);
      const q = only(BASE.replace("  command: install.cmd\n", "  command: install.cmd\n  maxRunTimeInMinutes: 0\n"));
      assert.match(q.message, /at least 1/);
      parseAppDefinition(
        BASE.replace("  command: install.cmd\n", "  command: install.cmd\n  maxRunTimeInMinutes: 1440\n"),
        FILE,
      );
    });
    it("notes fit in 1024 characters together with the ownership stamp", () => {
      // The longest stamp: with the rollback flag (no assignments or ESP profiles in BASE).
      const stamp = `intune-publisher:{"v":1,"id":"contoso-tool","version":"1.0.0","contentHash":"sha256:${"0".repeat(64)}","rb":true}`;
      const room = 1024 - stamp.length - 1;
      parseAppDefinition(`${BASE}notes: "${"n".repeat(room)}"\n`, FILE);
      const p = only(`${BASE}notes: "${"n".repeat(room + 1)}"\n`);
      assert.deepEqual([p.where, p.field], ["16:8", "notes"]);
      assert.equal(
        p.message,
        `notes are ${room + 1} characters; Intune keeps 1024 and the ownership stamp needs ${stamp.length + 1}, so shorten them to ${room}.`,
      );
    });
    it("return codes are listed once", () => {
      const p = only(`${BASE}returnCodes:\n  - { code: 0, type: success }\n  - { code: 0, type: failed }\n`);
      assert.deepEqual([p.where, p.field], ["18:13", "returnCodes.1.code"]);
    });
    it("content size at most 30 GB (once known), positioned at content", () => {
      const parsed = parseAppDefinition(BASE, FILE);
      assertContentSize(parsed, 30_000_000_000);
      assert.throws(
        () => assertContentSize(parsed, 30_000_000_001),
        (e: unknown) =>
          e instanceof AppDefinitionError &&
          e.problems[0]?.line === 6 &&
          e.problems[0].path.join(".") === "content" &&
          /at most 30.00 GB per app/.test(e.message),
      );
    });
  });

  describe("bounded YAML work", () => {
    it('refuses a "billion laughs" alias bomb at its first alias, with a clear message', () => {
      // Nine levels of nine aliases: 9^9 strings once expanded, from a few hundred bytes.
      const levels = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
      for (let i = 1; i <= 8; i++)
        levels.push(
          `lol${i}: &l${i} [${Array(9)
            .fill(`*l${i - 1}`)
            .join(", ")}]`,
        );
      const p = only(`${BASE}${levels.join("\n")}\n`);
      assert.equal(p.field, "");
      assert.equal(p.where, "17:12", "the first alias, *l0 on the line of lol1");
      assert.match(p.message, /^The YAML's aliases \(\*name\) expand to more than 100 copies of their anchors/);
    });

    it("still takes a few aliases", () => {
      const text =
        BASE.replace("uninstall:\n  command: uninstall.cmd", "uninstall:\n  command: &cmd uninstall.cmd") +
        "notes: *cmd\n";
      assert.equal(parseAppDefinition(text, FILE).definition.notes, "uninstall.cmd");
    });

    it("refuses nesting thousands of levels deep at its position, as a definition problem", () => {
      const p = only(`${BASE}description: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`);
      assert.equal(p.where.split(":")[0], "16");
      assert.equal(p.message, "The YAML nests too deeply to read (thousands of levels); a definition needs a few.");
    });
  });
});
