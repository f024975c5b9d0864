// winget's own version cases (winget-cli src/AppInstallerCLITests/Versions.cpp, MIT), run against our implementation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareWingetVersions, newestVersion, WingetVersion } from "./version.js";

function lessThan(a: string, b: string): void {
  const va = new WingetVersion(a);
  const vb = new WingetVersion(b);
  assert.ok(va.lessThan(vb), `${a} < ${b}`);
  assert.ok(!vb.lessThan(va), `not ${b} < ${a}`);
  assert.ok(!va.equals(vb), `${a} != ${b}`);
  assert.equal(compareWingetVersions(a, b), -1);
  assert.equal(compareWingetVersions(b, a), 1);
}

function equal(a: string, b: string): void {
  const va = new WingetVersion(a);
  const vb = new WingetVersion(b);
  assert.ok(va.equals(vb), `${a} == ${b}`);
  assert.ok(!va.lessThan(vb) && !vb.lessThan(va), `neither ${a} < ${b} nor the reverse`);
  assert.equal(compareWingetVersions(a, b), 0);
}

describe("winget version: parsing (VersionParse*)", () => {
  it("splits parts and keeps a part's text suffix", () => {
    assert.deepEqual(new WingetVersion("1.2.3.4-alpha").partList, [
      [1n, ""],
      [2n, ""],
      [3n, ""],
      [4n, "-alpha"],
    ]);
  });
  it("ignores white space around parts and a leading non-digit preamble", () => {
    assert.deepEqual(new WingetVersion("1. 2.3 . 4 ").partList, [
      [1n, ""],
      [2n, ""],
      [3n, ""],
      [4n, ""],
    ]);
    assert.deepEqual(new WingetVersion("v1.2.3.4").partList, new WingetVersion("1.2.3.4").partList);
  });
  it("handles the corner cases", () => {
    assert.equal(new WingetVersion("").partList.length, 0);
    assert.equal(new WingetVersion(".").partList.length, 0);
    assert.equal(new WingetVersion(".0").partList.length, 0);
    assert.deepEqual(new WingetVersion(".1").partList, [
      [0n, ""],
      [1n, ""],
    ]);
    assert.deepEqual(new WingetVersion("version").partList, [[0n, "version"]]);
    assert.deepEqual(new WingetVersion(". 1 ").partList, [
      [0n, ""],
      [1n, ""],
    ]);
    assert.deepEqual(new WingetVersion("v1.2a").partList, [
      [1n, ""],
      [2n, "a"],
    ]);
    assert.ok(new WingetVersion("").isEmpty());
    assert.ok(!new WingetVersion("0").isEmpty());
  });
  it("keeps a number too large for 64 bits as text", () => {
    assert.deepEqual(new WingetVersion("1.99999999999999999999").partList, [
      [1n, ""],
      [0n, "99999999999999999999"],
    ]);
  });
});

describe("winget version: comparison (VersionCompare)", () => {
  it("orders numbers part by part", () => {
    lessThan("1", "2");
    lessThan("1.0.0", "2.0.0");
    lessThan("0.0.1", "0.0.2");
    lessThan("0.0.1-alpha", "0.0.2-alpha");
    lessThan("0.0.1-beta", "0.0.2-alpha");
    lessThan("13.9.8", "14.1");
  });
  it("puts a part with a suffix below the same number without one", () => {
    lessThan("1-rc", "1");
    lessThan("1.2-rc", "1.2");
    lessThan("1.0-rc", "1.0");
    lessThan("1.0.0-rc", "1");
    lessThan("22.0.0-rc.1", "22.0.0");
    lessThan("22.0.0-rc.1", "22.0.0.1");
    lessThan("22.0.0-rc.1", "22.0.0.1-rc");
    lessThan("22.0.0-rc.1", "22.0.0-rc.1.1");
    lessThan("22.0.0-rc.1.1", "22.0.0-rc.1.2");
    lessThan("22.0.0-rc.1.2", "22.0.0-rc.2");
  });
  it("treats trailing zero parts, leading zeros and white space as equal", () => {
    equal("1.0", "1.0.0");
    equal("0.85", "0.85.0.0");
    equal("1.2.00.3", "1.2.0.3");
    equal("1.2.003.4", "1.2.3.4");
    equal("01.02.03.04", "1.2.3.4");
    equal("1.2.03-beta", "1.2.3-beta");
    equal("1.0", "1.0 ");
    equal("1.0", "1. 0");
    equal("1.0", "1.0.");
  });
  it("ignores preambles and compares text case-insensitively", () => {
    equal("1.0", "Version 1.0");
    equal("foo1", "bar1");
    lessThan("v0.0.1", "0.0.2");
    lessThan("v0.0.1", "v0.0.2");
    lessThan("1.a2", "1.b1");
    lessThan("alpha", "beta");
    equal("1.0-RC", "1.0-rc");
  });
  it("puts latest above and unknown below every version (VersionLatest, VersionUnknown)", () => {
    assert.ok(new WingetVersion("LATEST").isLatest());
    assert.ok(!new WingetVersion("1.0").isLatest());
    lessThan("1.0", "latest");
    lessThan("100", "latest");
    lessThan("943849587389754876.1", "latest");
    equal("latest", "LATEST");
    assert.ok(new WingetVersion("UNKNOWN").isUnknown());
    lessThan("unknown", "1.0");
    lessThan("unknown", "1.fork");
    equal("unknown", "UNKNOWN");
    lessThan("unknown", "latest");
  });
  it("orders approximate versions just around the version they name (ApproximateVersionCompare)", () => {
    assert.ok(new WingetVersion("< 1.0").isApproximate());
    assert.ok(!new WingetVersion("1.0").isApproximate());
    equal("< 1.0", "< 1.0");
    equal("< 1.0", "< 1.0.0");
    equal("> 1.0", "> 1.0.0");
    lessThan("< 1.0", "1.0");
    lessThan("< 1.0", "> 1.0");
    lessThan("1.0", "> 1.0");
    lessThan("0.9", "< 1.0");
    lessThan("> 1.0", "1.1");
    lessThan("< latest", "latest");
    lessThan("latest", "> latest");
    lessThan("9999", "< latest");
  });
  it("sorts the versions of real packages as winget does", () => {
    const sorted = ["0.89.0", "0.101.2362.0"].sort(compareWingetVersions);
    assert.deepEqual(sorted, ["0.89.0", "0.101.2362.0"]);
    lessThan("2.33.1.windows.1", "2.55.0.5");
    lessThan("3.12.0a1", "3.12.0");
    lessThan("3.12.0a1", "3.12.10");
    lessThan("26.001.21789", "26.1.21790");
    assert.equal(newestVersion(["16.0.4", "26.03", "9.20"]), "26.03");
    assert.equal(newestVersion(["0.85", "0.85.0.0"]), "0.85");
    assert.equal(newestVersion([]), undefined);
  });
});
