import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  AADSTS_ADVICE,
  aadstsCodeOf,
  adviceForAadsts,
  adviceForGraphError,
  adviceForNetworkError,
  intuneScopesOf,
  missingPermissionsAdvice,
  NO_ROLES_ADVICE,
} from "../../src/core/config/advice.js";
import { repoRoot } from "../support/paths.js";

/** Every code in the §2.1 table of docs/reference/entra-errors.md, read from the document itself. */
async function documentedCodes(): Promise<number[]> {
  const doc = await readFile(join(repoRoot(), "docs", "reference", "entra-errors.md"), "utf8");
  const section = doc.slice(doc.indexOf("## 2.1 "), doc.indexOf("## 2.2 "));
  return [...section.matchAll(/^\| \*\*(\d+)\*\* \|/gm)].map((m) => Number(m[1]));
}

describe("error-to-advice table", () => {
  it("has an entry with a cause and a fix for every AADSTS code of docs/reference/entra-errors.md §2.1", async () => {
    const codes = await documentedCodes();
    assert.ok(codes.length >= 20, `found ${codes.length} codes in §2.1`);
    for (const code of codes) {
      const entry = AADSTS_ADVICE[code];
      assert.ok(entry, `AADSTS${code} has no advice`);
      assert.ok(entry.cause.length > 10 && entry.fix.length > 10, `AADSTS${code} advice is too thin`);
    }
  });

  it("gives the issue's plain-words advice for the common codes", () => {
    assert.match(adviceForAadsts(7000215).fix, /Value, not its Secret ID/);
    assert.match(adviceForAadsts(7000215).fix, /new secret/);
    assert.match(adviceForAadsts(7000222).cause, /expired/);
    assert.match(adviceForAadsts(700016).cause, /not found in this tenant/);
    assert.match(adviceForAadsts(90002).cause, /tenant was not found/);
    assert.match(adviceForAadsts(90002).fix, /cloud/);
    assert.match(adviceForAadsts(7000112).fix, /accountEnabled=true/);
    assert.match(adviceForAadsts(7000229).fix, /az ad sp create/);
    assert.match(NO_ROLES_ADVICE.fix, /Global Administrator or Privileged Role Administrator/);
    assert.equal(NO_ROLES_ADVICE.kind, "permission");
  });

  it("classifies kinds: sign-in refusals are auth, audience mistakes config, request-shape errors internal", () => {
    assert.equal(adviceForAadsts(7000215).kind, "auth");
    assert.equal(adviceForAadsts(90002).kind, "auth");
    assert.equal(adviceForAadsts(500011).kind, "config");
    assert.equal(adviceForAadsts(1002012).kind, "config");
    assert.equal(adviceForAadsts(90014).kind, "internal");
    assert.equal(adviceForAadsts(65001).kind, "permission");
  });

  it("docs/troubleshooting.md has an entry for every mapped code", async () => {
    const doc = await readFile(new URL("../../docs/troubleshooting.md", import.meta.url), "utf8").catch(async () =>
      readFile(new URL("../../../docs/troubleshooting.md", import.meta.url), "utf8"),
    );
    for (const code of Object.keys(AADSTS_ADVICE)) assert.match(doc, new RegExp(`^### AADSTS${code}$`, "m"), code);
    for (const id of [
      "roles.none",
      "roles.missing",
      "graph.401.audience",
      "graph.403.Forbidden",
      "graph.403.Authorization_RequestDenied",
      "graph.400.notLicensed",
      "graph.429",
      "tls.untrusted",
      "net.dns",
      "net.connect",
      "net.proxy",
    ]) {
      assert.match(doc, new RegExp(`^### ${id.replace(/\./g, "\\.")}$`, "m"), id);
    }
  });

  it("names an unknown code and points at Microsoft's lookup page", () => {
    const a = adviceForAadsts(123456);
    assert.equal(a.id, "AADSTS123456");
    assert.equal(a.kind, "auth");
    assert.match(a.fix, /code=123456/);
  });

  it("finds the code from msal's errorNo, else from the AADSTS text (§2.2)", () => {
    assert.equal(aadstsCodeOf("7000215", ""), 7000215);
    assert.equal(aadstsCodeOf(90002, ""), 90002);
    assert.equal(aadstsCodeOf(undefined, "Error(s): x - Description: AADSTS700016: Application with…"), 700016);
    assert.equal(aadstsCodeOf("", "no code here"), undefined);
  });

  it("lists the missing permissions", () => {
    const a = missingPermissionsAdvice(["GroupMember.Read.All"]);
    assert.match(a.cause, /the permission GroupMember\.Read\.All/);
    assert.equal(a.kind, "permission");
    assert.match(missingPermissionsAdvice(["A.B", "C.D"]).cause, /permissions A\.B, C\.D/);
  });
});

describe("Graph error advice (§2.3)", () => {
  const intune403 = JSON.stringify(
    {
      _version: 3,
      Message:
        "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementApps.Read.All, DeviceManagementApps.ReadWrite.All - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: 1 - Url: https://fef.msua09.manage.microsoft.com/x",
      CustomApiErrorPhrase: "",
      RetryAfter: null,
      ErrorSourceService: "",
      HttpHeaders: "{}",
    },
    null,
    2,
  ).replace(/\n/g, "\r\n");

  it("parses the scopes out of Intune's JSON-in-JSON 403 and maps it to a permission problem", () => {
    assert.deepEqual(intuneScopesOf(intune403), [
      "DeviceManagementApps.Read.All",
      "DeviceManagementApps.ReadWrite.All",
    ]);
    const a = adviceForGraphError({ status: 403, code: "Forbidden", message: intune403 });
    assert.equal(a.kind, "permission");
    assert.deepEqual(a.scopes, ["DeviceManagementApps.Read.All", "DeviceManagementApps.ReadWrite.All"]);
    assert.match(a.cause, /DeviceManagementApps\.Read\.All/);
    assert.match(a.fix, /admin consent/);
  });

  it("maps every row of §2.3", () => {
    const cases: [Parameters<typeof adviceForGraphError>[0], string, string][] = [
      [
        {
          status: 401,
          code: "InvalidAuthenticationToken",
          message: "Access token validation failure. Invalid audience.",
        },
        "graph.401.audience",
        "config",
      ],
      [
        {
          status: 401,
          code: "InvalidAuthenticationToken",
          message: "Lifetime validation failed, the token is expired.",
        },
        "graph.401.InvalidAuthenticationToken",
        "auth",
      ],
      [{ status: 403, code: "UnknownError", message: "{}" }, "graph.403.UnknownError", "permission"],
      [
        {
          status: 403,
          code: "Authorization_RequestDenied",
          message: "Insufficient privileges to complete the operation.",
        },
        "graph.403.Authorization_RequestDenied",
        "permission",
      ],
      [
        { status: 400, code: "BadRequest", message: "Request not applicable to target tenant." },
        "graph.400.notLicensed",
        "graph",
      ],
      [
        { status: 400, code: "BadRequest", message: "No OData route exists that match template ~/x" },
        "graph.400.noODataRoute",
        "internal",
      ],
      [{ status: 429, code: "TooManyRequests", message: "Please retry again later." }, "graph.429", "graph"],
      [{ status: 503, code: "ServiceUnavailable", message: "temporarily unavailable" }, "graph.503", "graph"],
      [{ status: 504, code: "GatewayTimeout", message: "" }, "graph.504", "timeout"],
      [{ status: 404, code: "ResourceNotFound", message: "" }, "graph.404", "config"],
      [{ status: 500, code: undefined, message: undefined }, "graph.500", "graph"],
    ];
    for (const [facts, id, kind] of cases) {
      const a = adviceForGraphError(facts);
      assert.equal(a.id, id, JSON.stringify(facts));
      assert.equal(a.kind, kind, id);
      assert.ok(a.cause && a.fix, id);
    }
  });

  it("explains TLS and connection failures by their Node error code", () => {
    assert.equal(adviceForNetworkError("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "h:1").id, "tls.untrusted");
    assert.equal(adviceForNetworkError("SELF_SIGNED_CERT_IN_CHAIN", "h:1").id, "tls.untrusted");
    assert.match(adviceForNetworkError("SELF_SIGNED_CERT_IN_CHAIN", "h:1").fix, /Never turn verification off/);
    assert.equal(adviceForNetworkError("CERT_HAS_EXPIRED", "h").id, "tls.invalid");
    assert.equal(adviceForNetworkError("ENOTFOUND", "h").id, "net.dns");
    assert.equal(adviceForNetworkError("ECONNREFUSED", "h").id, "net.connect");
    assert.equal(adviceForNetworkError(undefined, "h").kind, "network");
  });
});
