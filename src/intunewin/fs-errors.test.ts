import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { PublisherError } from "../core/errors.js";
import { mapFsError } from "./fs-errors.js";

describe("file-system errors while writing output", () => {
  it("a full disk (a real ENOSPC from /dev/full) is a disk error, not damaged content", async () => {
    const enospc = await writeFile("/dev/full", "x").then(
      () => assert.fail("writing /dev/full succeeded"),
      (e: unknown) => e,
    );
    assert.equal((enospc as NodeJS.ErrnoException).code, "ENOSPC");
    const mapped = mapFsError(enospc);
    assert.ok(mapped instanceof PublisherError);
    assert.equal(mapped.kind, "input");
    assert.equal(mapped.code, "DiskFull");
    assert.match(mapped.message, /The output disk is full \(ENOSPC\); nothing was written\./);
    assert.match(mapped.hint ?? "", /Free space/);
  });

  it("a used-up quota (EDQUOT) likewise; other errors pass through", () => {
    const quota = Object.assign(new Error("quota"), { code: "EDQUOT" });
    const mapped = mapFsError(quota);
    assert.ok(mapped instanceof PublisherError);
    assert.equal(mapped.code, "DiskFull");
    assert.match(mapped.message, /quota/);
    const other = Object.assign(new Error("io"), { code: "EIO" });
    assert.equal(mapFsError(other), other);
  });
});
