// Generated PowerShell: hostile values stay inert. The check reads each literal back with an independent reader of
// PowerShell's single-quoted strings (about_Quoting_Rules: in '…' nothing expands; two quote characters are one, and
// ‘ ’ ‚ ‛ are quote characters too) and asserts the value round-trips and nothing follows it on the line.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPublisherError } from "../core/errors.js";
import { psQuote, renderTemplate } from "./powershell.js";
import { DETECT_TEMPLATE, UNINSTALL_TEMPLATE } from "./templates.js";

const QUOTES = new Set(["'", "\u2018", "\u2019", "\u201a", "\u201b"]);

/** Reads a single-quoted literal at the start of `text`; returns its value and what follows it. */
function readLiteral(text: string): { value: string; rest: string } {
  const chars = [...text];
  assert.ok(QUOTES.has(chars[0]!), `a literal starts with a quote: ${text}`);
  let value = "";
  for (let i = 1; i < chars.length; i++) {
    const c = chars[i]!;
    if (QUOTES.has(c)) {
      if (QUOTES.has(chars[i + 1] ?? "")) {
        value += c;
        i++;
        continue;
      }
      return { value, rest: chars.slice(i + 1).join("") };
    }
    value += c;
  }
  assert.fail(`unterminated literal: ${text}`);
}

const HOSTILE = [
  "O'Brien Tools",
  "'; Remove-Item -Recurse -Force C:\\ ; '",
  "$(Remove-Item C:\\)",
  "${env:TEMP}",
  "`whoami`",
  'Say "hello"',
  "Contoso\u2019s App \u2018beta\u2019",
  "\u201aLow\u201b",
  "''''",
  "'",
  "trailing quote '",
  "@('a','b')",
];

describe("PowerShell literals", () => {
  for (const v of HOSTILE)
    it(`keeps ${JSON.stringify(v)} inert`, () => {
      const line = `$X = ${psQuote(v)}`;
      const { value, rest } = readLiteral(line.slice("$X = ".length));
      assert.equal(value, v);
      assert.equal(rest, "", "nothing after the literal on its line");
    });

  for (const v of [
    "tab\there",
    "two\nlines",
    "cr\rhere",
    "nul\u0000",
    "esc\u001b[31m",
    "sep\u2028",
    "del\u007f",
    "c1\u0085",
  ])
    it(`refuses ${JSON.stringify(v)} (a control character or line break)`, () => {
      assert.throws(
        () => psQuote(v, "DisplayName"),
        (e: unknown) =>
          isPublisherError(e) &&
          e.kind === "input" &&
          e.code === "UnsafeScriptValue" &&
          /DisplayName/.test(e.message) &&
          // eslint-disable-next-line no-control-regex -- the message must carry no control character
          !/[\n\r\u0000\u001b]/.test(e.message),
      );
    });
});

describe("PowerShell templates", () => {
  const values = (name: string) => ({
    source: "winget folder /srv/winget-pkgs",
    packageId: "Contoso.Notes",
    packageVersion: "1.2.3",
    keyName: "",
    displayName: name,
    displayNameMatch: "prefix",
    publisher: name,
    registryRoots: ["HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"],
  });

  for (const name of HOSTILE)
    it(`places ${JSON.stringify(name)} only inside literals, in both scripts`, () => {
      const detect = renderTemplate(DETECT_TEMPLATE, { ...values(name), minimumVersion: "1.2.3" });
      const uninstall = renderTemplate(UNINSTALL_TEMPLATE, { ...values(name), silentSwitches: "/S" });
      for (const script of [detect, uninstall]) {
        const assigned = new Map<string, string>();
        for (const line of script.split("\n")) {
          const m = /^\$(DisplayName|Publisher) = (.*)$/.exec(line);
          if (m === null) continue;
          const { value, rest } = readLiteral(m[2]!);
          assert.equal(rest, "");
          assigned.set(m[1]!, value);
        }
        assert.equal(assigned.get("DisplayName"), name);
        assert.equal(assigned.get("Publisher"), name);
        // The value appears nowhere else: the header names the package, not the product's name.
        const lines = script.split("\n").filter((l) => l.includes(psQuote(name)));
        assert.equal(lines.length, 2, lines.join("\n"));
      }
    });

  it("renders lists and booleans as literals too", () => {
    assert.equal(
      renderTemplate("$A = {{a}}; $B = {{b}}", { a: ["x'y", "z"], b: true }),
      "$A = @('x''y', 'z'); $B = $true",
    );
  });

  it("refuses a missing or an unused value (a bug, not bad input)", () => {
    assert.throws(() => renderTemplate("$A = {{a}}", {}), /has no value/);
    assert.throws(() => renderTemplate("$A = 1", { a: "x" }), /not used: a/);
  });

  it("every placeholder of the shipped templates is filled and nothing else varies", () => {
    for (const t of [DETECT_TEMPLATE, UNINSTALL_TEMPLATE]) {
      const names = new Set([...t.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]));
      for (const n of names)
        assert.match(
          n!,
          /^(source|packageId|packageVersion|keyName|displayName|displayNameMatch|publisher|registryRoots|minimumVersion|silentSwitches)$/,
        );
    }
  });
});
