// $filter bounds: a deeply nested or very long filter is a 400 with Graph's error shape, never a stack overflow (500).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GraphError } from "./errors.js";
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, parseFilter } from "./odata.js";

const isBadRequest = (message: RegExp) => (e: unknown) =>
  e instanceof GraphError && e.status === 400 && e.code === "BadRequest" && message.test(e.message);

describe("$filter bounds", () => {
  it("nesting up to the limit works; deeper is 400 'recursion limit', also where the old parser overflowed", () => {
    const nested = (n: number) => `${"(".repeat(n)}x eq 1${")".repeat(n)}`;
    assert.equal(parseFilter(nested(MAX_FILTER_DEPTH))({ x: 1 }), true);
    assert.equal(parseFilter(`${"not ".repeat(MAX_FILTER_DEPTH)}x eq 1`)({ x: 1 }), true);
    for (const src of [nested(MAX_FILTER_DEPTH + 1), nested(3000), `${"not ".repeat(MAX_FILTER_DEPTH + 1)}x eq 1`])
      assert.throws(() => parseFilter(src), isBadRequest(/recursion limit has been exceeded/));
  });

  it("a long flat chain evaluates without nesting calls; past the length limit it is 400", () => {
    const chain = (n: number) => Array.from({ length: n }, (_, i) => `x eq ${i}`).join(" or ");
    const src = chain(600);
    assert.ok(src.length <= MAX_FILTER_LENGTH);
    assert.equal(parseFilter(src)({ x: 599 }), true);
    assert.equal(parseFilter(src)({ x: 600 }), false);
    assert.equal(parseFilter("x eq 1 and y eq 2 and not (z eq 3 or z eq 4)")({ x: 1, y: 2, z: 5 }), true);
    assert.throws(() => parseFilter(chain(2000)), isBadRequest(/at most 8192/));
  });
});
