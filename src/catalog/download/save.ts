/**
 * Copies a verified download out of the cache into a folder the user named (`catalog download --out`, `catalog
 * import`): under a temporary name in that folder, then renamed, so the folder never holds a partial file.
 */
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { safeFileName } from "./file-name.js";

export async function saveDownload(
  download: { path: string; fileName: string },
  outDir: string,
  fileName: string = download.fileName,
): Promise<string> {
  const name = safeFileName(fileName);
  await mkdir(outDir, { recursive: true });
  const target = join(outDir, name);
  const temp = join(outDir, `.${name}.${randomBytes(6).toString("hex")}.partial`);
  try {
    await copyFile(download.path, temp);
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return target;
}
