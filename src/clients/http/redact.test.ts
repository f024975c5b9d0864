import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  REDACTED,
  redactBody,
  redactHeaders,
  redactJson,
  redactUrl,
  registeringTransport,
  scrubShapes,
  SecretRegistry,
} from "./redact.js";
import type { HttpRequest } from "./types.js";

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

describe("SecretRegistry", () => {
  const SECRET = 'Sec~ret+/="value\\0123';

  it("scrubs a registered value in every form it is printed in", () => {
    const r = new SecretRegistry();
    r.add(SECRET);
    const forms = [
      SECRET,
      encodeURIComponent(SECRET),
      new URLSearchParams({ s: SECRET }).toString().slice(2),
      JSON.stringify(SECRET).slice(1, -1),
      JSON.stringify(JSON.stringify(SECRET)).slice(2, -2),
      Buffer.from(SECRET).toString("base64"),
      Buffer.from(SECRET).toString("base64url"),
    ];
    for (const f of forms) assert.equal(r.scrub(`before ${f} after`), `before ${REDACTED} after`, f);
    assert.equal(r.scrub(JSON.stringify({ quoted: `x ${SECRET} y` })), JSON.stringify({ quoted: `x ${REDACTED} y` }));
  });

  it("ignores values too short to be told from ordinary words, and undefined", () => {
    const r = new SecretRegistry();
    r.add("abc1234");
    r.add(undefined);
    r.add("   ");
    assert.equal(r.size, 0);
    assert.equal(r.scrub("abc1234 stays"), "abc1234 stays");
  });

  it("registers each base64 line of a PEM key, so a partial quote is scrubbed too", () => {
    const line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
    const r = new SecretRegistry();
    r.add(`-----BEGIN PRIVATE KEY-----\n${line}\nAAAAbbbbCCCCddddEEEEffff\n-----END PRIVATE KEY-----\n`);
    assert.equal(r.scrub(`echo: ${line}`), `echo: ${REDACTED}`);
  });

  it("takes a URL's SAS signature and password, which then go wherever they are quoted", () => {
    const r = new SecretRegistry();
    r.addFromUrl(SAS);
    r.addFromUrl("http://user:pr%2Bxy-Passw0rd@proxy:3128");
    assert.equal(r.scrub("signed c2VjcmV0JTJGc2ln here"), `signed ${REDACTED} here`);
    assert.equal(r.scrub("pw pr+xy-Passw0rd"), `pw ${REDACTED}`);
  });
});

describe("scrubShapes", () => {
  it("removes tokens, bearer values, PEM blocks, SAS signatures, secret fields and URL passwords", () => {
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    assert.equal(scrubShapes(`token ${jwt} end`), `token ${REDACTED} end`);
    assert.equal(scrubShapes("Authorization: Bearer abcdefghijklmnopqrstu"), `Authorization: Bearer ${REDACTED}`);
    assert.equal(
      scrubShapes("a -----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- b"),
      `a ${REDACTED} b`,
    );
    assert.equal(scrubShapes('{"k":"-----BEGIN PRIVATE KEY-----\\nMIIB"}'), `{"k":"${REDACTED}"}`);
    assert.equal(scrubShapes("PUT /c/b?sv=1&sig=abc%2Bdef&comp=block"), `PUT /c/b?sv=1&sig=${REDACTED}&comp=block`);
    assert.equal(
      scrubShapes("<Message>x?sv=1&amp;sig=abc+def&amp;se=2</Message>"),
      `<Message>x?sv=1&amp;sig=${REDACTED}&amp;se=2</Message>`,
    );
    assert.equal(scrubShapes("url%3Fsv%3D1%26sig%3Dabc"), `url%3Fsv%3D1%26sig%3D${REDACTED}`);
    assert.equal(
      scrubShapes("client_id=x&client_secret=s3cr3t&client_assertion_type=urn:x&client_assertion=abc"),
      `client_id=x&client_secret=${REDACTED}&client_assertion_type=urn:x&client_assertion=${REDACTED}`,
    );
    assert.equal(scrubShapes('{"client_secret": "s3cr3t"}'), `{"client_secret": "${REDACTED}"}`);
    assert.equal(scrubShapes('"{\\"access_token\\":\\"tok\\"}"'), `"{\\"access_token\\":\\"${REDACTED}\\"}"`);
    assert.equal(scrubShapes("via http://user:pa55@proxy:3128/"), `via http://user:${REDACTED}@proxy:3128/`);
  });

  it("leaves ordinary text alone", () => {
    const text = "design=fine signature: none; Bearer short; https://host/path?x=1 user@example.com";
    assert.equal(scrubShapes(text), text);
  });
});

describe("registeringTransport", () => {
  it("registers what a request carries and what an answer hands out, before anyone can print it", async () => {
    const secrets = new SecretRegistry();
    const send = registeringTransport(
      async (request: HttpRequest) => ({
        status: 200,
        headers: {},
        bodyText: JSON.stringify({
          access_token: "token-handed-out-123",
          value: [{ azureStorageUri: "https://acct/c/b?sv=1&sig=answer-sig-456" }],
          fileEncryptionInfo: { encryptionKey: "key-in-a-body-789=" },
        }),
        request,
      }),
      secrets,
    );
    await send({
      method: "POST",
      url: "https://acct/c/b?sv=1&sig=request-sig-000",
      headers: { authorization: "Bearer header-token-111" },
      body: new URLSearchParams({ client_id: "app", client_secret: "form-secret-222" }).toString(),
    });
    await send({
      method: "POST",
      url: "https://graph/x",
      headers: {},
      body: JSON.stringify({ macKey: "mac-key-333=" }),
    });
    const quoted = [
      "token-handed-out-123",
      "answer-sig-456",
      "key-in-a-body-789=",
      "request-sig-000",
      "header-token-111",
      "form-secret-222",
      "mac-key-333=",
    ];
    for (const q of quoted) assert.equal(secrets.scrub(`said ${q}.`), `said ${REDACTED}.`, q);
    assert.equal(secrets.scrub("app"), "app");
  });
});
