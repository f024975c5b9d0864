/**
 * The community repository's layout (microsoft/winget-pkgs): `manifests/<first letter, lower case>/<id parts…>/
 * <version>/`, the id split on its dots (`Adobe.Acrobat.Reader.64-bit` → `a/Adobe/Acrobat/Reader/64-bit`), and in the
 * version folder `<id>.yaml` (the version or singleton file), `<id>.installer.yaml`, `<id>.locale.<locale>.yaml`.
 *
 * Ids and versions become path segments, so they are checked first: an id matches the manifest schema's pattern (no
 * separators, no empty part, hence no `..`), a version the PackageVersion pattern and is neither `.` nor `..`.
 */
import { catalogError } from "../errors.js";
import { PACKAGE_IDENTIFIER_PATTERN, PACKAGE_VERSION_PATTERN } from "./schema.js";

// eslint-disable-next-line no-control-regex -- the schemas' classes start at U+0001: NUL and DEL are refused too
const CONTROL = /[\u0000-\u001f\u007f]/;

export function isPackageId(id: string): boolean {
  return id.length <= 128 && PACKAGE_IDENTIFIER_PATTERN.test(id) && !CONTROL.test(id);
}

export function isPackageVersion(version: string): boolean {
  return (
    version.length <= 128 &&
    PACKAGE_VERSION_PATTERN.test(version) &&
    !CONTROL.test(version) &&
    version.trim() === version &&
    version !== "." &&
    version !== ".."
  );
}

/** Throws a usage error naming the fix when `id` cannot be a package id. */
export function assertPackageId(id: string): void {
  if (!isPackageId(id))
    throw catalogError(
      "InvalidPackageId",
      `"${printable(id)}" is not a package id: ids are Publisher.Package (2 to 8 dot-separated parts, no spaces or \\ / : * ? " < > |).`,
      "Find the id with `intune-publisher catalog search TEXT`.",
    );
}

export function assertPackageVersion(version: string): void {
  if (!isPackageVersion(version))
    throw catalogError(
      "InvalidPackageVersion",
      `"${printable(version)}" is not a package version (it must not be . or .., nor contain \\ / : * ? " < > | or control characters).`,
      "Give a version the source lists, or leave --version out for the newest.",
    );
}

/** Control characters shown escaped, so a message never carries them to a terminal. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex -- escaping control characters is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Path segments from the repository root to the package folder (`manifests`, letter, id parts). */
export function packageSegments(id: string): string[] {
  assertPackageId(id);
  return ["manifests", id[0]!.toLowerCase(), ...id.split(".")];
}

export function versionSegments(id: string, version: string): string[] {
  assertPackageVersion(version);
  return [...packageSegments(id), version];
}

export const manifestFileName = {
  version: (id: string) => `${id}.yaml`,
  installer: (id: string) => `${id}.installer.yaml`,
  locale: (id: string, locale: string) => `${id}.locale.${locale}.yaml`,
};
