// The error catalogue (src/core/error-codes.ts) holds every code thrown anywhere, each with a troubleshooting
// heading that exists (or a reason for none); a code outside it does not compile; and the classifiers that pick a
// code by kind keep the kind (so the exit code) they were given.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { ERROR_CODES, ERROR_GROUPS } from "../../src/core/error-codes.js";
import type { ErrorCode } from "../../src/core/error-codes.js";
import {
  AADSTS_ADVICE,
  adviceForAadsts,
  adviceForGraphError,
  adviceForNetworkError,
  missingPermissionsAdvice,
  NO_ROLES_ADVICE,
} from "../../src/core/config/advice.js";
import type { Advice } from "../../src/core/config/advice.js";
import { adviceCode } from "../../src/publish/connect/test-connection.js";
import { AuthFailure } from "../../src/clients/auth/token-provider.js";
import { graphError } from "../../src/clients/graph/errors.js";
import { StorageError } from "../../src/clients/blob/block-blob.js";
import { repoRoot } from "../support/paths.js";

const root = repoRoot();
const isCode = (c: string): c is ErrorCode => Object.hasOwn(ERROR_CODES, c);

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -, repeats get -1, -2… */
function headingSlugs(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of markdown.split("\n")) {
    const m = /^#{1,6}\s+(.*?)\s*$/.exec(line);
    if (!m?.[1]) continue;
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/**
 * Literal codes in the places a code is given: the first argument of a PublisherError (or a subclass's `super`),
 * of the helpers that take a code, a `code:` property, and a default code parameter.
 */
const CODE_SITES = [
  /new (?:PublisherError|UploadStateError)\(\s*"([A-Z][A-Za-z0-9]+)"/g,
  /\bsuper\(\s*"([A-Z][A-Za-z0-9]+)"/g,
  /\b(?:catalogError|refuse|fail|integrity|notAPackage)\(\s*"([A-Z][A-Za-z0-9]+)"/g,
  /\b(?:badUrl|redirectRefused)\([^,]+,(?:[^,]+,)?\s*"([A-Z][A-Za-z0-9]+)"/g,
  /new UploadError\(\{[^}]*?\bcode:\s*"([A-Z][A-Za-z0-9]+)"/g,
  /\berrorCode:\s*"([A-Z][A-Za-z0-9]+)"/g,
  /\bcode: CodeOfKind<[^>]+> = "([A-Z][A-Za-z0-9]+)"/g,
];

describe("the error catalogue", () => {
  it("holds every code thrown in src/ and emulator/", () => {
    const found = new Map<string, string>();
    for (const file of [...sources(join(root, "src")), ...sources(join(root, "emulator"))]) {
      const text = readFileSync(file, "utf8");
      for (const site of CODE_SITES)
        for (const m of text.matchAll(site)) if (m[1] !== undefined) found.set(m[1], file.slice(root.length + 1));
    }
    // The scan finds the codes (guards against a pattern that matches nothing).
    assert.ok(found.size > 100, `only ${found.size} codes found`);
    const missing = [...found].filter(([c]) => !isCode(c));
    assert.deepEqual(missing, [], "codes thrown but not in src/core/error-codes.ts");
  });

  it("gives every entry a troubleshooting heading that exists, or a reason for having none", () => {
    const slugs = headingSlugs(readFileSync(join(root, "docs", "troubleshooting.md"), "utf8"));
    const broken = Object.entries(ERROR_CODES).filter(([, e]) =>
      typeof e.troubleshooting === "string"
        ? !slugs.has(e.troubleshooting.slice(1))
        : e.troubleshooting.none.trim().length < 10,
    );
    assert.deepEqual(
      broken.map(([c, e]) => `${c}: ${JSON.stringify(e.troubleshooting)}`),
      [],
      "anchors missing from docs/troubleshooting.md",
    );
  });

  it("lists each code in one group, alphabetically, with a one-line meaning", () => {
    const all: string[] = [];
    for (const [area, group] of ERROR_GROUPS) {
      const codes = Object.keys(group);
      assert.deepEqual(codes, [...codes].sort(), `${area}: not in alphabetical order`);
      all.push(...codes);
      for (const [code, e] of Object.entries(group)) assert.ok(!/\n/.test(e.meaning) && e.meaning !== "", code);
    }
    assert.deepEqual(
      all.filter((c, i) => all.indexOf(c) !== i),
      [],
      "codes in two groups",
    );
    assert.deepEqual(all.sort(), Object.keys(ERROR_CODES).sort());
  });

  it("refuses to compile a code that is not in it", () => {
    const probe = join(root, "src", "core", "error-probe.ts");
    const body =
      'import { PublisherError } from "./errors.js";\n' +
      'export const ok = new PublisherError("FileNotFound", "known");\n' +
      'export const bad = new PublisherError("NoSuchCode", "unknown");\n';
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    const exists = host.fileExists.bind(host);
    host.readFile = (f) => (f === probe ? body : read(f));
    host.fileExists = (f) => f === probe || exists(f);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (f, lang, ...rest) =>
      f === probe ? ts.createSourceFile(f, body, lang) : getSourceFile(f, lang, ...rest);
    const program = ts.createProgram([probe], options, host);
    const errors = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === probe)
      .map((d) => ({
        line: d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1,
        text: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
      }));
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0]!.line, 3);
    assert.match(errors[0]!.text, /"NoSuchCode"/);
  });
});

describe("codes chosen from a service's answer", () => {
  it("keep the advice's kind for every AADSTS code, the AADSTS code as serviceCode", () => {
    for (const n of Object.keys(AADSTS_ADVICE).map(Number)) {
      const advice = adviceForAadsts(n);
      const e = new AuthFailure({ advice, aadsts: n, errorCode: "invalid_client" });
      assert.equal(e.kind, advice.kind, `AADSTS${n}`);
      assert.equal(e.serviceCode, `AADSTS${n}`);
      assert.ok(e.code.startsWith("SignIn"), e.code);
    }
  });

  it("keep the kind of every advice connect test can give (so its exit code)", () => {
    const advices: Advice[] = [
      ...Object.keys(AADSTS_ADVICE).map((n) => adviceForAadsts(Number(n))),
      adviceForAadsts(1), // an AADSTS code the table does not know
      NO_ROLES_ADVICE,
      missingPermissionsAdvice(["DeviceManagementApps.ReadWrite.All"]),
      ...["CERT_HAS_EXPIRED", "SELF_SIGNED_CERT_IN_CHAIN", "ENOTFOUND", "ECONNREFUSED", undefined].map((c) =>
        adviceForNetworkError(c, "login.example"),
      ),
    ];
    const bodies: [number, string | undefined, string][] = [
      [401, "InvalidAuthenticationToken", "Invalid audience."],
      [401, "InvalidAuthenticationToken", "expired"],
      [403, "Forbidden", "following scopes: DeviceManagementApps.Read.All - Operation ID x"],
      [403, "UnknownError", "{}"],
      [403, "Authorization_RequestDenied", "denied"],
      [403, undefined, ""],
      [400, "BadRequest", "Request not applicable to target tenant."],
      [400, "BadRequest", "No OData route exists that match template ~/x"],
      [400, "BadRequest", "other"],
      [404, "ResourceNotFound", ""],
      [429, "TooManyRequests", ""],
      [500, "InternalServerError", ""],
      [503, "ServiceUnavailable", ""],
      [504, "GatewayTimeout", ""],
    ];
    for (const [status, code, message] of bodies) advices.push(adviceForGraphError({ status, code, message }));
    for (const a of advices) assert.equal(ERROR_CODES[adviceCode(a)].kind, a.kind, `${a.id} → ${adviceCode(a)}`);
  });

  it("map Graph's status to ours and keep Graph's code (or HttpNNN) as serviceCode", () => {
    const cases: [number, string | undefined, ErrorCode, string][] = [
      [401, "InvalidAuthenticationToken", "GraphUnauthorized", "InvalidAuthenticationToken"],
      [403, "Forbidden", "GraphForbidden", "Forbidden"],
      [404, "ResourceNotFound", "GraphRequestFailed", "ResourceNotFound"],
      [502, undefined, "GraphRequestFailed", "Http502"],
    ];
    for (const [status, graphCode, code, serviceCode] of cases) {
      const e = graphError({
        status,
        headers: {},
        body: graphCode === undefined ? "" : { error: { code: graphCode, message: "m" } },
        method: "GET",
        url: "https://graph.microsoft.com/beta/x",
      });
      assert.deepEqual([e.code, e.serviceCode, e.kind], [code, serviceCode, ERROR_CODES[code].kind]);
    }
    const s = new StorageError({
      status: 403,
      storageCode: "AuthenticationFailed",
      storageMessage: undefined,
      operation: "Put Block",
      url: "https://x.blob.core.windows.net/c/b",
      requestId: undefined,
      clientRequestId: undefined,
    });
    assert.deepEqual([s.code, s.serviceCode, s.kind], ["StorageRequestFailed", "AuthenticationFailed", "graph"]);
  });
});
