import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { requestIdPolicy } from "./request-id-policy.js";
import type { HttpRequest, HttpResponse } from "./types.js";

const echo = async (request: HttpRequest): Promise<HttpResponse> => ({
  status: 200,
  headers: {},
  bodyText: "",
  request,
});

describe("requestIdPolicy", () => {
  it("adds a random GUID client-request-id", async () => {
    const policy = requestIdPolicy();
    const a = await policy.send({ method: "GET", url: "https://h/", headers: {} }, echo);
    const b = await policy.send({ method: "GET", url: "https://h/", headers: {} }, echo);
    const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(a.request.headers["client-request-id"] ?? "", re);
    assert.notEqual(a.request.headers["client-request-id"], b.request.headers["client-request-id"]);
  });

  it("keeps an id the caller set, and does not touch the caller's headers object", async () => {
    const headers = { "client-request-id": "mine" };
    const r = await requestIdPolicy(() => "new").send({ method: "GET", url: "https://h/", headers }, echo);
    assert.equal(r.request.headers["client-request-id"], "mine");
    const fresh: Record<string, string> = {};
    await requestIdPolicy(() => "new").send({ method: "GET", url: "https://h/", headers: fresh }, echo);
    assert.deepEqual(fresh, {});
  });
});
