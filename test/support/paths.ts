import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest folder above this file holding package.json (works from src and dist). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** ../shared/testdata beside the checkout (CI lays shared/ there too). */
export function sharedTestdata(...parts: string[]): string {
  return resolve(repoRoot(), "..", "shared", "testdata", ...parts);
}
