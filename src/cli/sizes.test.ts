import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseByteSize } from "./sizes.js";

describe("byte sizes on the command line", () => {
  it("reads bytes and binary and decimal units", () => {
    assert.equal(parseByteSize("4096"), 4096);
    assert.equal(parseByteSize("500MiB"), 500 * 1024 ** 2);
    assert.equal(parseByteSize("500M"), 500 * 1024 ** 2);
    assert.equal(parseByteSize("20 GiB"), 20 * 1024 ** 3);
    assert.equal(parseByteSize("1.5gib"), 1.5 * 1024 ** 3);
    assert.equal(parseByteSize("2GB"), 2e9);
    assert.equal(parseByteSize("64KiB"), 65536);
  });

  it("refuses what is not a positive size", () => {
    for (const bad of ["", "lots", "-1", "0", "10 parsecs", "1e9", "MiB", "1,5GiB"]) {
      assert.equal(parseByteSize(bad), undefined, bad);
    }
  });
});
