import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join, relative, sep, isAbsolute } from "node:path";
import { PublisherError } from "../core/errors.js";

/** One entry of the inner zip: a file, or an empty folder (the tool gives only empty folders an entry). */
export interface SourceEntry {
  /** Name inside the zip: relative, backslash-separated as the official tool writes it; folders end in `\`. */
  zipName: string;
  absPath: string;
  kind: "file" | "emptyDir";
  size: number;
  mtime: Date;
}

/**
 * NTFS lists names in upper-case ordinal order, which the official tool inherits; sort the same way so
 * packages made here list their entries as packages made on Windows do.
 */
function ntfsCompare(a: string, b: string): number {
  const ua = a.toUpperCase();
  const ub = b.toUpperCase();
  if (ua !== ub) return ua < ub ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Lists the setup folder in the order of .NET's ZipFile.CreateFromDirectory: each folder's entries in listing
 * order, files and empty folders inline, then each non-empty sub-folder in turn (depth first). Symlinks are
 * followed only when they resolve inside the source folder; a link that escapes it, or a loop, is an error.
 */
export async function listSource(sourceRoot: string): Promise<SourceEntry[]> {
  const rootReal = await realpath(sourceRoot);
  const entries: SourceEntry[] = [];
  const visiting = new Set<string>();

  async function resolveEntry(abs: string, display: string) {
    const l = await lstat(abs);
    if (!l.isSymbolicLink()) return { st: l, real: abs };
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      throw new PublisherError(
        "input",
        "BrokenSymlink",
        `"${display}" in the source folder is a broken symbolic link.`,
        {
          hint: "Remove the link or point it at a file inside the source folder.",
        },
      );
    }
    if (!isInside(rootReal, real)) {
      throw new PublisherError(
        "input",
        "SymlinkEscapesSource",
        `"${display}" in the source folder is a symbolic link to "${real}", outside the source folder.`,
        { hint: "Copy the target into the source folder, or remove the link." },
      );
    }
    return { st: await stat(abs), real };
  }

  async function walk(dirAbs: string, dirReal: string, prefix: string): Promise<void> {
    if (visiting.has(dirReal)) {
      throw new PublisherError("input", "SymlinkLoop", `The source folder has a symbolic-link loop at "${prefix}".`, {
        hint: "Remove the link that points back at one of its parent folders.",
      });
    }
    visiting.add(dirReal);
    const names = (await readdir(dirAbs)).sort(ntfsCompare);
    const subdirs: { abs: string; real: string; prefix: string }[] = [];
    for (const name of names) {
      const abs = join(dirAbs, name);
      const zipName = prefix + name;
      const { st, real } = await resolveEntry(abs, zipName.replaceAll("\\", sep));
      if (st.isDirectory()) {
        if ((await readdir(abs)).length === 0) {
          entries.push({ zipName: zipName + "\\", absPath: abs, kind: "emptyDir", size: 0, mtime: st.mtime });
        } else {
          subdirs.push({ abs, real, prefix: zipName + "\\" });
        }
      } else if (st.isFile()) {
        entries.push({ zipName, absPath: abs, kind: "file", size: st.size, mtime: st.mtime });
      } else {
        throw new PublisherError(
          "input",
          "UnsupportedFileType",
          `"${zipName}" in the source folder is not a regular file or folder.`,
          {
            hint: "Remove sockets, devices and pipes from the source folder.",
          },
        );
      }
    }
    for (const d of subdirs) await walk(d.abs, d.real, d.prefix);
    visiting.delete(dirReal);
  }

  await walk(sourceRoot, rootReal, "");
  return entries;
}
