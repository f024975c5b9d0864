/**
 * Test support for the catalog: the winget corpus (winget-cli's parser test data and real community manifests,
 * MIT; see test/fixtures/winget/README.md for provenance).
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { ManifestFile } from "../../src/catalog/winget/manifest.js";
import { fixture } from "./paths.js";

export const WINGET_CORPUS = fixture("winget");
/** winget-cli's src/AppInstallerCLITests/TestData (see its EXPECTED.md). */
export const WINGET_CLI_DATA = join(WINGET_CORPUS, "winget-cli");
/** A winget-pkgs-layout folder of real community manifests. */
export const WINGET_PKGS = join(WINGET_CORPUS, "pkgs");

/** One file of winget-cli's test data as a manifest file. */
export function cliFile(name: string): ManifestFile {
  return { name, bytes: readFileSync(join(WINGET_CLI_DATA, name)) };
}

/** Every file of a folder of winget-cli's test data (a multi-file manifest). */
export function cliFolder(folder: string): ManifestFile[] {
  return readdirSync(join(WINGET_CLI_DATA, folder))
    .sort()
    .map((n) => ({ name: `${folder}/${n}`, bytes: readFileSync(join(WINGET_CLI_DATA, folder, n)) }));
}

/** The version folders of the real packages: `manifests/…/<version>` relative to WINGET_PKGS. */
export function pkgVersionFolders(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir);
    if (entries.some((e) => e.endsWith(".yaml"))) out.push(relative(WINGET_PKGS, dir));
    for (const e of entries) if (statSync(join(dir, e)).isDirectory()) walk(join(dir, e));
  };
  walk(join(WINGET_PKGS, "manifests"));
  return out.sort();
}
