import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { match, route } from "./routing.js";
import type { GraphRequest } from "./types.js";

const parts = (pattern: string): string[] => pattern.split("/").filter(Boolean);

describe("routing", () => {
  it("a template's literals match case-insensitively and its {names} capture one segment each", () => {
    const files = parts("/deviceAppManagement/mobileApps/{id}/microsoft.graph.win32LobApp/contentVersions/{cv}/files");
    assert.deepEqual(
      match(files, [
        "deviceappmanagement",
        "MOBILEAPPS",
        "A1",
        "microsoft.graph.win32LobApp",
        "contentVersions",
        "2",
        "files",
      ]),
      { id: "A1", cv: "2" },
    );
    assert.equal(match(files, ["deviceAppManagement", "mobileApps", "A1"]), undefined, "fewer segments");
    assert.equal(
      match(files, [
        "deviceAppManagement",
        "mobileApps",
        "A1",
        "microsoft.graph.win32LobApp",
        "contentVersions",
        "2",
        "x",
      ]),
      undefined,
    );
  });

  it("route() keeps what it is given, defaults to Intune's 403 on both versions, and hands the handler its params", async () => {
    const seen: string[] = [];
    const r = route("GET", "/groups/{id}/members/{memberId}", ["Group.Read.All"], (_req, p) => {
      seen.push(`${p.id}:${p.memberId}`);
      return { status: 200 };
    });
    assert.equal(r.method, "GET");
    assert.equal(r.forbidden, "intune");
    assert.equal(r.versions, undefined);
    const params = match(parts(r.pattern), ["groups", "g", "members", "m"]);
    assert.ok(params);
    assert.deepEqual(await r.handler({} as GraphRequest, params), { status: 200 });
    assert.deepEqual(seen, ["g:m"]);
    const beta = route("POST", "/x", [], () => ({ status: 204 }), { versions: ["beta"], forbidden: "directory" });
    assert.deepEqual(beta.versions, ["beta"]);
    assert.equal(beta.forbidden, "directory");
  });
});
