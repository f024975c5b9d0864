// Hostile manifests: what a malicious or broken source could put in a manifest is refused with the file, position
// and field, without echoing secrets or control characters, and nothing of it reaches a command or definition.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPublisherError } from "../../src/core/errors.js";
import { ManifestError } from "../../src/catalog/errors.js";
import { selectInstaller } from "../../src/catalog/select.js";
import { toDefinition } from "../../src/catalog/to-definition.js";
import { parseManifest } from "../../src/catalog/winget/manifest.js";

const SHA = "D".repeat(64);

function singleton(lines: string[]): string {
  return [
    "PackageIdentifier: Evil.App",
    "PackageVersion: 1.0",
    "PackageLocale: en-US",
    "Publisher: Evil",
    "License: MIT",
    "ShortDescription: x",
    ...lines,
    "ManifestType: singleton",
    "ManifestVersion: 1.9.0",
    "",
  ].join("\n");
}

const installer = (extra: string[] = [], url = "https://evil.example/app.exe") => [
  "Installers:",
  "- Architecture: x64",
  "  InstallerType: nullsoft",
  `  InstallerUrl: ${url}`,
  `  InstallerSha256: ${SHA}`,
  ...extra.map((l) => `  ${l}`),
];

const read = (text: string) => parseManifest([{ name: "evil.yaml", bytes: Buffer.from(text) }]);
const convert = (text: string) => {
  const m = read(text);
  return toDefinition(m, { selection: selectInstaller(m), sourceLabel: "test" });
};

function refusedRead(text: string, expected: RegExp): string {
  try {
    read(text);
  } catch (e) {
    assert.ok(e instanceof ManifestError, String(e));
    assert.match(e.message, expected);
    assert.match(e.message, /evil\.yaml:\d+:\d+: /);
    // eslint-disable-next-line no-control-regex -- no control character may reach a terminal through a message
    assert.doesNotMatch(e.message.replace(/\n {2}/g, " "), /[\u0000-\u0009\u000b-\u001f\u007f]/);
    return e.message;
  }
  assert.fail("not refused");
}

describe("hostile manifests", () => {
  it("an installer URL with a password: that installer is refused, the password never printed", () => {
    const text = singleton(["PackageName: App", ...installer([], "https://admin:hunter2@evil.example/app.exe")]);
    assert.throws(
      () => convert(text),
      (e: unknown) =>
        isPublisherError(e) &&
        /InstallerUrl\] carries a user name or password/.test(e.message) &&
        !e.message.includes("hunter2"),
    );
  });

  it("a homepage with credentials is left out of the definition, and said so", () => {
    const plan = convert(singleton(["PackageName: App", "PackageUrl: https://u:secret@evil.example/", ...installer()]));
    assert.equal(plan.definition.informationUrl, undefined);
    assert.ok(!JSON.stringify(plan).includes("secret"));
    assert.ok(plan.explanations.some((e) => /PackageUrl is left out/.test(e)));
  });

  it("control characters in a value: refused at their position, shown escaped", () => {
    const msg = refusedRead(
      singleton(['PackageName: "App\\u001b[31mRed"', ...installer()]),
      /PackageName contains a control character \(U\+001B\)/,
    );
    assert.match(msg, /evil\.yaml:7:14: PackageName:/);
    refusedRead(singleton(['PackageName: "Two\\nlines"', ...installer()]), /PackageName must be one line/);
    refusedRead(
      singleton(["PackageName: App", ...installer(["InstallerSwitches:", '  Custom: "/S\\r\\ncalc.exe"'])]),
      /Custom must be one line/,
    );
  });

  it("nested installer paths that leave the archive: absolute, drive, or ..", () => {
    for (const path of ["/etc/passwd", "C:\\Windows\\evil.exe", "a/../../b.exe", "..\\b.exe"]) {
      const text = singleton([
        "PackageName: App",
        "Installers:",
        "- Architecture: x64",
        "  InstallerType: zip",
        "  NestedInstallerType: exe",
        "  NestedInstallerFiles:",
        `  - RelativeFilePath: '${path}'`,
        "  InstallerUrl: https://evil.example/app.zip",
        `  InstallerSha256: ${SHA}`,
        "  InstallerSwitches: { Silent: /S, SilentWithProgress: /S }",
      ]);
      assert.throws(
        () => convert(text),
        (e: unknown) =>
          isPublisherError(e) &&
          /Relative file path must not point to a location outside of archive directory/.test(e.message),
        path,
      );
    }
  });

  it("YAML aliases: a few are read, past 100 the file is refused, never expanded", () => {
    const tags = (n: number) => `Tags: [${Array(n).fill("*d").join(", ")}]`;
    const ok = read(singleton(["PackageName: App", "Description: &d words", ...installer(), tags(3)]));
    assert.deepEqual(ok.defaultLocale.tags, ["words", "words", "words"]);
    refusedRead(
      singleton(["PackageName: App", "Description: &d words", ...installer(), tags(150)]),
      /More than 100 YAML aliases: refused/,
    );
  });

  it("thousands of nesting levels end in a clear error", () => {
    refusedRead(
      singleton(["PackageName: App", ...installer(), `Tags: ${"[".repeat(5000)}${"]".repeat(5000)}`]),
      /The YAML nests too deeply to read/,
    );
  });

  it("values longer than the schema allows", () => {
    refusedRead(
      singleton([`PackageName: ${"A".repeat(300)}`, ...installer()]),
      /PackageName is at most 256 characters/,
    );
    refusedRead(
      singleton(["PackageName: App", ...installer(), `ProductCode: ${"P".repeat(300)}`]),
      /ProductCode is at most 255 characters/,
    );
  });

  it("an unknown ManifestType, a shadow manifest", () => {
    refusedRead(
      singleton(["PackageName: App", ...installer()]).replace("ManifestType: singleton", "ManifestType: evil"),
      /Invalid field value\. \[ManifestType\] Value: evil/,
    );
    refusedRead(
      singleton(["PackageName: App", ...installer()]).replace("ManifestType: singleton", "ManifestType: shadow"),
      /Shadow manifest is not allowed/,
    );
  });
});
