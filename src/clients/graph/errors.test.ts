import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { graphError, intuneInnerMessage } from "./errors.js";

// docs/reference/entra-errors.md §2.3 (an observed Intune 403), verbatim shape.
const INTUNE_403_MESSAGE =
  '{\r\n  "_version": 3,\r\n  "Message": "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementApps.Read.All, DeviceManagementApps.ReadWrite.All - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: 7b3c - Url: https://fef.msua09.manage.microsoft.com/x",\r\n  "CustomApiErrorPhrase": "",\r\n  "RetryAfter": null,\r\n  "ErrorSourceService": "",\r\n  "HttpHeaders": "{}"\r\n}';

describe("intuneInnerMessage", () => {
  it("reads Message from the JSON string Intune puts in error.message", () => {
    assert.match(intuneInnerMessage(INTUNE_403_MESSAGE) ?? "", /^Application is not authorized/);
  });

  it("unwraps the doubly nested UnknownError form (§2.3, observed)", () => {
    const inner = JSON.stringify({
      _version: 3,
      Message: "An error has occurred - Operation ID (for customer support): 1",
    });
    const outer = JSON.stringify({ ErrorCode: "Forbidden", Message: inner });
    assert.equal(intuneInnerMessage(outer), "An error has occurred - Operation ID (for customer support): 1");
  });

  it("is undefined for a plain message", () => {
    assert.equal(intuneInnerMessage("Resource not found for the segment 'x'."), undefined);
    assert.equal(intuneInnerMessage("{not json"), undefined);
    assert.equal(intuneInnerMessage(undefined), undefined);
  });
});

describe("graphError", () => {
  it("maps an Intune 403 to kind permission with the inner message, scopes and ids", () => {
    const e = graphError({
      status: 403,
      headers: { "request-id": "rid-1", "client-request-id": "cid-1" },
      body: {
        error: {
          code: "Forbidden",
          message: INTUNE_403_MESSAGE,
          innerError: { date: "2026-11-26T12:00:00", "request-id": "rid-body", "client-request-id": "cid-body" },
        },
      },
      method: "GET",
      url: "https://graph.microsoft.com/beta/deviceAppManagement/mobileApps?$skiptoken=secret",
    });
    assert.equal(e.kind, "permission");
    assert.equal(e.code, "GraphForbidden");
    assert.equal(e.serviceCode, "Forbidden");
    assert.equal(e.status, 403);
    assert.equal(e.requestId, "rid-1");
    assert.equal(e.clientRequestId, "cid-1");
    assert.equal(e.date, "2026-11-26T12:00:00");
    assert.match(e.innerMessage ?? "", /^Application is not authorized/);
    assert.deepEqual(e.requiredScopes, ["DeviceManagementApps.Read.All", "DeviceManagementApps.ReadWrite.All"]);
    assert.match(e.hint ?? "", /DeviceManagementApps\.Read\.All, DeviceManagementApps\.ReadWrite\.All/);
    assert.ok(!e.message.includes("secret"), e.message);
    assert.match(e.message, /request-id rid-1, client-request-id cid-1/);
  });

  it("falls back to the body's innerError ids and our own client-request-id", () => {
    const e = graphError({
      status: 404,
      headers: {},
      body: { error: { code: "ResourceNotFound", message: "nope", innerError: { "request-id": "rid-body" } } },
      method: "GET",
      url: "https://h/beta/x",
      clientRequestId: "ours",
    });
    assert.equal(e.kind, "graph");
    assert.equal(e.requestId, "rid-body");
    assert.equal(e.clientRequestId, "ours");
    assert.equal(e.innerMessage, undefined);
    assert.match(e.message, /Graph answered 404 ResourceNotFound to GET https:\/\/h\/beta\/x: nope/);
  });

  it("maps 401 to kind auth, with a hint for a wrong audience", () => {
    const e = graphError({
      status: 401,
      headers: {},
      body: {
        error: { code: "InvalidAuthenticationToken", message: "Access token validation failure. Invalid audience." },
      },
      method: "GET",
      url: "https://h/beta/x",
    });
    assert.equal(e.kind, "auth");
    assert.match(e.hint ?? "", /another cloud/);
  });

  it("keeps the Retry-After of a 429 that outlasted the retries", () => {
    const e = graphError({
      status: 429,
      headers: { "retry-after": "120" },
      body: { error: { code: "TooManyRequests", message: "Please retry again later." } },
      method: "GET",
      url: "https://h/beta/x",
    });
    assert.equal(e.kind, "graph");
    assert.equal(e.code, "GraphRequestFailed");
    assert.equal(e.serviceCode, "TooManyRequests");
    assert.equal(e.retryAfterMs, 120_000);
  });

  it("copes with a body that is not Graph JSON", () => {
    const e = graphError({
      status: 502,
      headers: {},
      body: "<html>Bad gateway</html>",
      method: "GET",
      url: "https://h/x",
    });
    assert.equal(e.code, "GraphRequestFailed");
    assert.equal(e.serviceCode, "Http502");
    assert.equal(e.graphCode, undefined);
    assert.match(e.message, /no error message/);
  });
});
