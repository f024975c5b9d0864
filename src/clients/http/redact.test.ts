import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REDACTED, redactBody, redactHeaders, redactJson, redactUrl } from "./redact.js";

const SAS =
  "https://acct.blob.core.windows.net/c/f.bin?sv=2023-11-03&st=2026-01-01T00%3A00%3A00Z&se=2026-01-02T00%3A00%3A00Z&sr=b&sp=rw&si=policy&skoid=abc&sig=c2VjcmV0JTJGc2ln&comp=block&blockid=MDAwMDA%3D";

describe("redactUrl", () => {
  it("replaces every SAS parameter and keeps the allowed operation parameters", () => {
    const out = redactUrl(SAS);
    for (const p of ["sv", "st", "se", "sr", "sp", "si", "skoid", "sig"])
      assert.ok(out.includes(`${p}=${REDACTED}`), p);
    assert.ok(!out.includes("c2VjcmV0"), "signature value leaked");
    assert.ok(out.includes("comp=block"));
    assert.ok(out.includes("blockid=MDAwMDA%3D"));
    assert.ok(out.startsWith("https://acct.blob.core.windows.net/c/f.bin?"));
  });

  it("keeps OData options readable and redacts $skiptoken", () => {
    const out = redactUrl(
      "https://graph.microsoft.com/beta/deviceAppManagement/mobileApps?$select=id,displayName&$top=5&$skiptoken=opaque123",
    );
    assert.equal(
      out,
      `https://graph.microsoft.com/beta/deviceAppManagement/mobileApps?$select=id%2CdisplayName&$top=5&$skiptoken=${REDACTED}`,
    );
  });

  it("never keeps sig, even when a caller allows it", () => {
    assert.equal(redactUrl("https://h/p?sig=abc&x=1", ["sig", "x"]), `https://h/p?sig=${REDACTED}&x=1`);
  });

  it("removes user info and fragments", () => {
    assert.equal(redactUrl("http://alice:s3cret@proxy.example:8080/#frag"), `http://${REDACTED}@proxy.example:8080/`);
  });

  it("gives REDACTED for something that is not a URL", () => {
    assert.equal(redactUrl("not a url?sig=abc"), REDACTED);
  });
});

describe("redactHeaders", () => {
  it("keeps allow-listed headers and redacts the rest, whatever their case", () => {
    const out = redactHeaders({
      Authorization: "Bearer eyJ0eXAi.payload.sig",
      Cookie: "a=b",
      "Client-Request-Id": "1234",
      "X-Custom": "value",
      "Retry-After": "10",
    });
    assert.deepEqual(out, {
      authorization: REDACTED,
      cookie: REDACTED,
      "client-request-id": "1234",
      "x-custom": REDACTED,
      "retry-after": "10",
    });
  });

  it("never keeps Authorization, even when a caller allows it", () => {
    assert.deepEqual(redactHeaders({ authorization: "Bearer t", "x-a": "1" }, ["Authorization", "x-a"]), {
      authorization: REDACTED,
      "x-a": "1",
    });
  });
});

describe("redactJson / redactBody", () => {
  const commit = {
    fileEncryptionInfo: {
      encryptionKey: "S0VZ",
      macKey: "TUFD",
      initializationVector: "SVY=",
      mac: "bWFj",
      profileIdentifier: "ProfileVersion1",
      fileDigest: "ZGln",
      fileDigestAlgorithm: "SHA256",
    },
  };

  it("never shows fileEncryptionInfo, even when every key is allowed", () => {
    const out = JSON.stringify(redactJson(commit, ["fileEncryptionInfo", "encryptionKey", "macKey", "mac"]));
    assert.equal(out, JSON.stringify({ fileEncryptionInfo: REDACTED }));
  });

  it("keeps allowed fields at any depth and redacts the others", () => {
    const out = redactJson({
      value: [{ id: "a1", displayName: "7-Zip", notes: "owner stamp", azureStorageUri: SAS }],
      "@odata.nextLink": "https://graph/x?$skiptoken=t",
    });
    assert.deepEqual(out, {
      value: [{ id: "a1", displayName: "7-Zip", notes: REDACTED, azureStorageUri: REDACTED }],
      "@odata.nextLink": REDACTED,
    });
  });

  it("passes URL strings in allowed fields through redactUrl", () => {
    assert.deepEqual(redactJson({ message: SAS }), { message: redactUrl(SAS) });
  });

  it("renders JSON through the allow-list and other bodies by size only", () => {
    assert.equal(redactBody(JSON.stringify(commit)), JSON.stringify({ fileEncryptionInfo: REDACTED }));
    assert.equal(redactBody("client_secret=abc&grant_type=x"), "<30 bytes>");
    assert.equal(redactBody(new Uint8Array(7)), "<7 bytes>");
    assert.equal(redactBody(""), undefined);
  });
});
