import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { windowsNameProblem, windowsPathProblem, windowsUpper } from "./names.js";

describe("names Windows can hold", () => {
  it("accepts ordinary names, and names that only look like device names", () => {
    for (const name of [
      "setup.exe",
      "a b.txt",
      "x.y.z",
      ".hidden",
      "CONSOLE.txt",
      "con2",
      "COM10",
      "LPTX",
      "Ünï ✓",
      "n".repeat(255),
    ]) {
      assert.equal(windowsNameProblem(name), undefined, name);
    }
  });

  it("refuses each rule, naming it", () => {
    const cases: [string, RegExp][] = [
      ["a\\b", /contains "\\"/],
      ["a/b", /contains "\/"/],
      ["x:ads", /contains ":"/],
      ["a<b", /contains "<"/],
      ['"q"', /contains """/],
      ["a\u0000b", /control character U\+0000/],
      ["a\u001fb", /control character U\+001F/],
      ["dot.", /ends in a dot/],
      ["..", /ends in a dot/],
      ["space ", /ends in a space/],
      ["CON", /CON is a reserved device name/],
      ["nul.tar.gz", /NUL is a reserved device name/],
      ["Aux .txt", /AUX is a reserved device name/],
      ["com0", /COM0 is a reserved device name/],
      ["LPT\u00b9.txt", /LPT\u00b9 is a reserved device name/],
      ["conin$", /CONIN\$ is a reserved device name/],
      ["n".repeat(256), /256 characters long; Windows allows 255 per name/],
    ];
    for (const [name, rule] of cases) assert.match(windowsNameProblem(name) ?? "", rule, JSON.stringify(name));
  });

  it("checks whole paths: each name, then the length", () => {
    assert.equal(windowsPathProblem(["a", "b", "c.txt"]), undefined);
    assert.match(windowsPathProblem(["ok", "PRN"]) ?? "", /^"PRN": PRN is a reserved device name/);
    const d255 = Array.from({ length: 4 }, () => "d".repeat(255)); // 1,023 characters with separators
    assert.equal(windowsPathProblem(d255), undefined);
    assert.match(windowsPathProblem([...d255, "x"]) ?? "", /1025 characters long, over the limit of 1024/);
    assert.match(windowsPathProblem(Array.from({ length: 5 }, () => "d".repeat(250))) ?? "", /1254 characters/);
  });

  it("compares names as Windows does: case ignored, lengths kept", () => {
    assert.equal(windowsUpper("Setup.exe"), windowsUpper("SETUP.EXE"));
    assert.equal(windowsUpper("straße"), "STRAßE");
    assert.notEqual(windowsUpper("straße"), windowsUpper("STRASSE"));
  });
});
