import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GARBAGE_STEP, garbageCollections, noteGarbage } from "./gc.js";

describe("noteGarbage", () => {
  it("runs one young-generation collection per GARBAGE_STEP bytes of dropped buffers", () => {
    noteGarbage(GARBAGE_STEP); // whatever was pending: collected now, nothing left pending
    const start = garbageCollections();
    assert.ok(start >= 1, "the collector is available in this process");
    noteGarbage(GARBAGE_STEP - 1);
    assert.equal(garbageCollections(), start);
    noteGarbage(1);
    assert.equal(garbageCollections(), start + 1);
    noteGarbage(3 * GARBAGE_STEP);
    assert.equal(garbageCollections(), start + 2);
  });
});
