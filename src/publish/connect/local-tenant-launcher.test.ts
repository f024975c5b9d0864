import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { withoutAzurite } from "./local-tenant-launcher.js";

describe("local tenant launcher", () => {
  it("a missing azurite (an optional dependency) is a configuration error naming the fix", () => {
    let missing: unknown;
    try {
      createRequire(import.meta.url)("azurite/dist/src/no-such-module");
    } catch (e) {
      missing = e;
    }
    const err = withoutAzurite(missing);
    assert.equal(err?.kind, "config");
    assert.equal(err?.code, "LocalTenantUnavailable");
    assert.match(err.message, /needs the optional package azurite, which is not installed/);
    assert.match(err.hint ?? "", /npm install azurite/);
    assert.equal(withoutAzurite(new Error("boom")), undefined);
    assert.equal(
      withoutAzurite(Object.assign(new Error("Cannot find module 'yaml'"), { code: "MODULE_NOT_FOUND" })),
      undefined,
    );
  });
});
