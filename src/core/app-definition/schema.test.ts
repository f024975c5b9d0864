import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppDefinitionInput } from "./schema.js";
import { appDefinitionSchema, parseDate } from "./schema.js";
import { MINIMAL_DEFINITION } from "./testing/definitions.js";

const base: AppDefinitionInput = {
  ...MINIMAL_DEFINITION,
  detection: [{ type: "file", path: "C:\\x", fileOrFolderName: "a.exe" }],
};

/** `path: message` of every issue for `base` with `patch` applied. */
function issues(patch: Record<string, unknown>): string[] {
  const r = appDefinitionSchema.safeParse({ ...base, ...patch });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}
const detection = (rule: Record<string, unknown>) => issues({ detection: [rule] });
const requirement = (rule: Record<string, unknown>) => issues({ requirements: { rules: [rule] } });

describe("appDefinitionSchema", () => {
  it("accepts the base definition", () => assert.deepEqual(issues({}), []));

  it("checks identity fields", () => {
    assert.match(issues({ id: "Contoso Tool" })[0]!, /^id: id is a stable slug/);
    assert.match(issues({ id: "-x" })[0]!, /^id:/);
    assert.deepEqual(issues({ id: "a" }), []);
    assert.deepEqual(issues({ version: "" }), ["version: version must not be empty."]);
    assert.match(issues({ version: "1\n2" })[0]!, /one line/);
    assert.match(issues({ displayName: "  " })[0]!, /displayName must not be empty/);
    assert.match(issues({ informationUrl: "contoso.example" })[0]!, /http\(s\) URL/);
    assert.deepEqual(issues({ informationUrl: "https://contoso.example/x?y=1" }), []);
  });

  it("content: a folder with a setup file, or a package", () => {
    assert.deepEqual(issues({ content: { package: "a.intunewin" } }), []);
    assert.match(issues({ content: { package: "a.zip" } })[0]!, /must be a .intunewin file/);
    assert.match(issues({ content: {} })[0]!, /content needs `source`/);
    assert.match(issues({ content: { source: "s" } })[0]!, /setupFile is required/);
    assert.match(issues({ content: { source: "s", setupFile: "C:\\x.exe" } })[0]!, /inside content.source/);
    assert.match(issues({ content: { source: "s", setupFile: "a/../../x" } })[0]!, /inside content.source/);
    assert.deepEqual(issues({ content: { source: "s", setupFile: "bin/setup.exe" } }), []);
  });

  it("file rules", () => {
    const f = { type: "file", path: "C:\\x", fileOrFolderName: "a.exe" };
    assert.match(detection({ ...f, fileOrFolderName: "sub\\a.exe" })[0]!, /single name/);
    assert.match(detection({ ...f, operator: "equal" })[0]!, /check: exists takes no operator/);
    assert.match(detection({ ...f, check: "doesNotExist", value: "1" })[0]!, /takes no value/);
    assert.match(detection({ ...f, check: "version", value: "1.0" })[0]!, /needs an operator/);
    assert.match(detection({ ...f, check: "version", operator: "equal" })[0]!, /needs a value/);
    assert.match(
      detection({ ...f, check: "version", operator: "equal", value: "v1" })[0]!,
      /one to four numeric parts/,
    );
    assert.match(detection({ ...f, check: "version", operator: "equal", value: "1.2.3.4.5" })[0]!, /numeric parts/);
    assert.match(detection({ ...f, check: "version", operator: "equal", value: 1.1 })[0]!, /must be quoted text/);
    assert.match(detection({ ...f, check: "sizeInMB", operator: "equal", value: -1 })[0]!, /must not be negative/);
    assert.match(detection({ ...f, check: "sizeInMB", operator: "equal", value: 1.5 })[0]!, /whole number/);
    assert.match(detection({ ...f, check: "modifiedDate", operator: "equal", value: "2024-02-30" })[0]!, /ISO 8601/);
    assert.match(detection({ ...f, check: "modifiedDate", operator: "equal", value: "yesterday" })[0]!, /ISO 8601/);
    assert.match(detection({ ...f, operator: "equals", check: "version", value: "1" })[0]!, /operator must be one of/);
    assert.match(detection({ ...f, check: "hash" })[0]!, /check must be one of exists, doesNotExist/);
  });

  it("registry rules", () => {
    const r = { type: "registry", keyPath: "HKLM\\SOFTWARE\\X" };
    assert.deepEqual(detection(r), []);
    assert.match(detection({ ...r, keyPath: "SOFTWARE\\X" })[0]!, /must start with a hive/);
    assert.match(detection({ ...r, check: "string", operator: "equal", value: "a" })[0]!, /needs the valueName/);
    const s = { ...r, valueName: "V", check: "string" };
    assert.match(detection({ ...s, operator: "greaterThan", value: "a" })[0]!, /only takes equal or notEqual/);
    assert.match(detection({ ...s, operator: "equal", value: 5 })[0]!, /needs quoted text/);
    assert.match(
      detection({ ...r, valueName: "V", check: "integer", operator: "equal", value: "x" })[0]!,
      /whole number/,
    );
    assert.deepEqual(detection({ ...r, valueName: "V", check: "integer", operator: "equal", value: "-3" }), []);
  });

  it("MSI rules", () => {
    const code = "{23170F69-40C1-2702-2408-000001000000}";
    assert.deepEqual(detection({ type: "msi", productCode: code }), []);
    assert.deepEqual(detection({ type: "msi" }), []);
    assert.match(detection({ type: "msi", productCode: "23170F69-40C1-2702-2408-000001000000" })[0]!, /GUID in braces/);
    assert.match(detection({ type: "msi", productCode: code, value: "1.0" })[0]!, /needs an operator/);
    assert.match(detection({ type: "msi", productCode: code, operator: "equal" })[0]!, /needs a value/);
  });

  it("script rules", () => {
    assert.deepEqual(detection({ type: "script", script: "d.ps1" }), []);
    assert.match(detection({ type: "script" })[0]!, /script is required/);
    const s = { type: "script", script: "r.ps1" };
    assert.match(requirement({ ...s, operator: "equal", value: "a" })[0]!, /outputType is required/);
    assert.match(
      requirement({ ...s, outputType: "boolean", operator: "greaterThan", value: true })[0]!,
      /equal or notEqual/,
    );
    assert.match(requirement({ ...s, outputType: "boolean", operator: "equal", value: "yes" })[0]!, /true or false/);
    assert.match(requirement({ ...s, outputType: "float", operator: "equal", value: "abc" })[0]!, /needs a number/);
    assert.match(requirement({ ...s, outputType: "string", operator: "equal" })[0]!, /value is required/);
    assert.match(
      requirement({ type: "msi", productCode: "{23170F69-40C1-2702-2408-000001000000}" })[0]!,
      /type must be one of file, registry, script/,
    );
  });

  it("requirements and return codes", () => {
    assert.match(issues({ requirements: { architectures: ["arm"] } })[0]!, /x86, x64, arm64/);
    assert.match(issues({ requirements: { architectures: [] } })[0]!, /at least one/);
    assert.match(issues({ requirements: { minimumMemoryMB: 0 } })[0]!, /at least 1/);
    assert.match(issues({ returnCodes: [] })[0]!, /leave it out for Intune's defaults/);
    assert.match(issues({ returnCodes: [{ code: 0, type: "ok" }] })[0]!, /type must be one of success/);
    assert.deepEqual(
      issues({
        returnCodes: [
          { code: -2147483648, type: "failed" },
          { code: 4294967295, type: "failed" },
        ],
      }),
      [],
    );
  });

  it("parseDate accepts dates and date-times with an offset only", () => {
    assert.equal(parseDate("2024-05-01")?.toISOString(), "2024-05-01T00:00:00.000Z");
    assert.equal(parseDate("2024-05-01T10:00:00Z")?.toISOString(), "2024-05-01T10:00:00.000Z");
    assert.equal(parseDate("2024-05-01T10:00:00-0130")?.toISOString(), "2024-05-01T11:30:00.000Z");
    assert.equal(parseDate("2024-05-01T10:00:00"), undefined);
    assert.equal(parseDate("2023-02-29"), undefined);
    assert.equal(parseDate("01/05/2024"), undefined);
  });
});
