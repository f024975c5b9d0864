/**
 * A zip with a nested installer (winget `InstallerType: zip` with `NestedInstallerType` / `NestedInstallerFiles`):
 * the verified zip unpacked into the download cache (`unpacked/<sha256 of the zip>/`), treated as hostile — the same
 * extraction as `unpack` (src/intunewin/unpack.ts: every entry checked before anything is written; regular files and
 * folders only, names inside the folder and ones Windows can hold, an entry count and a size cap) — then every nested
 * file checked to be a regular file inside it. The folder is made under a temporary name and renamed when complete,
 * so a refused or broken zip leaves nothing. Beside it, `unpacked/<sha256>.files.json` lists every unpacked file (path,
 * size, SHA-256): a folder unpacked once is used again only when its files are exactly those (hashed again, as the
 * cache hashes a cached download before use); a folder changed since, or without that list, is unpacked again from
 * the verified zip.
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { extractZip } from "../../intunewin/unpack.js";
import { formatLimit, readBoundedText } from "../../platform/fs.js";
import { hashFile } from "./cache.js";
import { shown } from "./errors.js";

/** Limits of an unpacked vendor zip (docs/limits.md). */
export const NESTED_ZIP_LIMITS = {
  maxEntries: 10_000,
  /** the extracted files may take this many times the zip's size… */
  sizeRatio: 100,
  /** …and at least this much */
  minExtractedBytes: 1024 ** 3,
  /** the list of unpacked files beside the folder (10,000 entries of a path, a size and a hash) */
  maxListBytes: 8 * 1024 ** 2,
} as const;

export interface NestedZip {
  /** the product and version, for messages */
  product: string;
  version: string;
  url: string;
  /** the verified zip in the cache */
  path: string;
  sha256: string;
  size: number;
  /** NestedInstallerFiles' RelativeFilePath values, `/`-separated */
  nestedFiles: readonly string[];
  signal?: AbortSignal;
  /** override of NESTED_ZIP_LIMITS.maxEntries (tests) */
  maxEntries?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The folder holding the zip's files, every nested file in it checked. */
export async function unpackNestedZip(cacheDir: string, zip: NestedZip): Promise<string> {
  if (!HEX64.test(zip.sha256)) throw new Error(`Not a SHA-256: ${zip.sha256}`);
  const root = join(cacheDir, "unpacked");
  const folder = join(root, zip.sha256);
  const list = join(root, `${zip.sha256}.files.json`);
  const what = `${zip.product} ${zip.version}: the zip downloaded from ${shown(zip.url)}`;
  if (await isFolder(folder)) {
    if (await matchesList(folder, list)) {
      await checkNested(folder, zip.nestedFiles, what);
      return folder;
    }
    // changed since it was unpacked (or unpacked before the list was kept): not used, unpacked again
    await rm(folder, { recursive: true, force: true });
  }
  await mkdir(root, { recursive: true });
  const temp = join(root, `.${zip.sha256.slice(0, 16)}.${randomBytes(6).toString("hex")}`);
  const maxSize = Math.max(NESTED_ZIP_LIMITS.sizeRatio * zip.size, NESTED_ZIP_LIMITS.minExtractedBytes);
  try {
    await mkdir(temp);
    await extractZip(
      zip.path,
      temp,
      zip.path,
      { maxEntries: zip.maxEntries ?? NESTED_ZIP_LIMITS.maxEntries, maxExtractedSize: maxSize, defaultSize: true },
      zip.signal,
    );
    await checkNested(temp, zip.nestedFiles, what);
    const files = await listFiles(temp);
    if (files === undefined) throw new Error(`${temp} holds something other than files and folders`);
    const tempList = `${temp}.files.json`;
    await writeFile(tempList, JSON.stringify({ format: LIST_FORMAT, files }), { mode: 0o644 });
    await rename(tempList, list);
    await rename(temp, folder).catch(async (e: unknown) => {
      // another run unpacked the same zip meanwhile: theirs is used (the same files, or refused next time)
      if (!(await isFolder(folder))) throw e;
    });
  } catch (e) {
    throw isPublisherError(e) && e.code === "NestedInstallerMissing" ? e : refusal(e, what, maxSize);
  } finally {
    await rm(temp, { recursive: true, force: true });
    await rm(`${temp}.files.json`, { force: true });
  }
  return folder;
}

/** Bumped when the list's shape changes: a folder with an older list is unpacked again. */
const LIST_FORMAT = 1;

interface UnpackedFile {
  /** `/`-separated, relative to the folder */
  path: string;
  size: number;
  sha256: string;
}

/** Every file under `folder`, sorted by path, hashed; undefined when something else (a link, a device) is there. */
async function listFiles(folder: string): Promise<UnpackedFile[] | undefined> {
  const out: UnpackedFile[] = [];
  const walk = async (dir: string, prefix: string): Promise<boolean> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = `${prefix}${e.name}`;
      if (e.isDirectory()) {
        if (!(await walk(join(dir, e.name), `${path}/`))) return false;
      } else if (e.isFile()) {
        const { hash, bytes } = await hashFile(join(dir, e.name));
        out.push({ path, size: bytes, sha256: hash.digest("hex") });
      } else return false;
    }
    return true;
  };
  if (!(await walk(folder, ""))) return undefined;
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** True when the folder holds exactly the files its list names, with their sizes and hashes. */
async function matchesList(folder: string, list: string): Promise<boolean> {
  try {
    const kept = JSON.parse(
      await readBoundedText({ path: list, what: "unpacked files list", maxBytes: NESTED_ZIP_LIMITS.maxListBytes }),
    ) as { format?: unknown; files?: unknown };
    if (kept.format !== LIST_FORMAT || !Array.isArray(kept.files)) return false;
    const now = await listFiles(folder);
    return now !== undefined && JSON.stringify(now) === JSON.stringify(kept.files);
  } catch {
    return false;
  }
}

/** Every nested file must be a regular file inside the unpacked folder. */
async function checkNested(folder: string, nestedFiles: readonly string[], what: string): Promise<void> {
  for (const nested of nestedFiles) {
    const segments = nested.split("/").filter((s) => s !== "" && s !== ".");
    const s = segments.includes("..") ? undefined : await lstat(join(folder, ...segments)).catch(() => undefined);
    if (s?.isFile() !== true)
      throw new PublisherError(
        "NestedInstallerMissing",
        `${what} has no file ${nested} (its NestedInstallerFiles names it${s === undefined ? "" : `, but it is ${s.isDirectory() ? "a folder" : "not a regular file"}`}); nothing is published.`,
        {
          hint: "The manifest does not match the zip: report it to the source, or describe the product in a catalog entry of your own.",
        },
      );
  }
}

async function isFolder(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() === true;
}

/** unpack's refusal, worded for a vendor's zip: its code and reason kept, the product and URL named. */
function refusal(e: unknown, what: string, maxSize: number): unknown {
  if (!isPublisherError(e)) return e;
  const reason = e.message
    .replace(/^"[^"]*" (cannot be unpacked: )?/, "")
    .replace(/^The content of "[^"]*" is damaged: /, "is damaged: ")
    .replace(/; nothing was extracted\.?$/, "")
    .replace(/\.$/, "");
  const limits =
    e.code === "TooManyEntries" || e.code === "ExtractedTooLarge"
      ? ` Limits: ${NESTED_ZIP_LIMITS.maxEntries} entries, ${formatLimit(maxSize)} extracted (docs/limits.md).`
      : "";
  return new PublisherError(e.code, `${what} cannot be unpacked: ${reason}; nothing was extracted or published.`, {
    hint: `The vendor's zip is damaged or hostile: nothing from it is used. Report it to the source.${limits}`,
    cause: e,
  });
}
