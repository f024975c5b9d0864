import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_TOKEN_AUDIENCE, formatLocalTenantRecord, readLocalTenantRecord } from "./local-tenant-record.js";

const record = {
  authorityHost: "https://127.0.0.1:8443",
  graphBaseUrl: "https://127.0.0.1:8443/beta",
  tokenAudience: "https://graph.microsoft.com",
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  clientId: "0b6f6a3e-2f1c-4c8e-9a43-5d2b1f6c7e80",
  clientSecret: "local~secret",
};

describe("credentials.json: one schema for emulator start (writer) and the local tenant finder (reader)", () => {
  it("what the writer formats, the reader reads back", () => {
    const text = formatLocalTenantRecord(record);
    assert.ok(text.endsWith("}\n"));
    assert.deepEqual(readLocalTenantRecord(text), { ok: true, record });
  });

  it("names every missing or empty field in one message, and a null secret as missing", () => {
    const r = readLocalTenantRecord(JSON.stringify({ ...record, tenantId: "", graphBaseUrl: 5, clientSecret: null }));
    assert.deepEqual(r, { ok: false, problem: "missing", fields: ["tenantId", "clientSecret", "graphBaseUrl"] });
    const secretless = formatLocalTenantRecord({ ...record, clientSecret: null });
    assert.deepEqual(readLocalTenantRecord(secretless), { ok: false, problem: "missing", fields: ["clientSecret"] });
  });

  it("text that is not a JSON object is refused; an absent or unusable tokenAudience takes the default", () => {
    for (const t of ["", "[1]", "null", "{"])
      assert.deepEqual(readLocalTenantRecord(t), { ok: false, problem: "not-an-object" });
    const { tokenAudience: _a, ...rest } = record;
    for (const over of [rest, { ...rest, tokenAudience: "" }]) {
      const r = readLocalTenantRecord(JSON.stringify(over));
      assert.equal(r.ok && r.record.tokenAudience, DEFAULT_TOKEN_AUDIENCE);
    }
  });

  it("the vendor host's URL is optional; an unusable one is left out, the record still usable", () => {
    const withVendor = { ...record, vendorUrl: "https://127.0.0.1:9443" };
    assert.deepEqual(readLocalTenantRecord(formatLocalTenantRecord(withVendor)), { ok: true, record: withVendor });
    for (const vendorUrl of ["", 5, null]) {
      const r = readLocalTenantRecord(JSON.stringify({ ...record, vendorUrl }));
      assert.ok(r.ok);
      assert.equal(r.record.vendorUrl, undefined);
    }
  });
});
