import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join, relative, sep, isAbsolute } from "node:path";
import { PublisherError } from "../core/errors.js";
import { pathLengthProblem, windowsNameProblem, windowsUpper } from "./names.js";

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

function unsafeName(display: string, problem: string): PublisherError {
  return new PublisherError(
    "UnsafeFileName",
    `"${display}" in the source folder has a name Windows cannot hold: ${problem}.`,
    {
      hint: "Rename or remove it: Intune extracts the package on Windows, where such a name cannot be written (or reaches a device or another folder).",
    },
  );
}

/** Names as UTF-8 text; a name that is not valid UTF-8 cannot be written to the zip as the tool writes names. */
function checkNames(raw: Buffer[], prefix: string): string[] {
  return raw.map((bytes) => {
    const name = bytes.toString("utf8");
    if (!Buffer.from(name, "utf8").equals(bytes)) {
      throw new PublisherError(
        "NameNotUtf8",
        `"${prefix.replaceAll("\\", sep) + name}" in the source folder has a name that is not valid UTF-8 (the bytes shown as \ufffd).`,
        { hint: "Rename it with UTF-8 characters: Windows names are Unicode." },
      );
    }
    return name;
  });
}

/**
 * Lists the setup folder in the order of .NET's ZipFile.CreateFromDirectory: each folder's entries in listing
 * order, files and empty folders inline, then each non-empty sub-folder in turn (depth first). Symlinks are
 * followed only when they resolve inside the source folder; a link that escapes it, or a loop, is an error.
 * A name Windows cannot hold (names.ts), two names that differ only in case, a name that is not UTF-8, and a
 * FIFO, socket or device are refused: Intune extracts the package on Windows.
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
      throw new PublisherError("BrokenSymlink", `"${display}" in the source folder is a broken symbolic link.`, {
        hint: "Remove the link or point it at a file inside the source folder.",
      });
    }
    if (!isInside(rootReal, real)) {
      throw new PublisherError(
        "SymlinkEscapesSource",
        `"${display}" in the source folder is a symbolic link to "${real}", outside the source folder.`,
        { hint: "Copy the target into the source folder, or remove the link." },
      );
    }
    return { st: await stat(abs), real };
  }

  async function walk(dirAbs: string, dirReal: string, prefix: string): Promise<void> {
    if (visiting.has(dirReal)) {
      throw new PublisherError("SymlinkLoop", `The source folder has a symbolic-link loop at "${prefix}".`, {
        hint: "Remove the link that points back at one of its parent folders.",
      });
    }
    visiting.add(dirReal);
    const names = checkNames(await readdir(dirAbs, { encoding: "buffer" }), prefix).sort(ntfsCompare);
    for (let i = 1; i < names.length; i++) {
      if (windowsUpper(names[i - 1]!) === windowsUpper(names[i]!)) {
        const [a, b] = [names[i - 1]!, names[i]!].map((n) => prefix.replaceAll("\\", sep) + n);
        throw new PublisherError(
          "NamesDifferInCase",
          `"${a}" and "${b}" in the source folder differ only in case: on Windows they are one name, and one would replace the other.`,
          { hint: "Rename or remove one of them." },
        );
      }
    }
    const subdirs: { abs: string; real: string; prefix: string }[] = [];
    for (const name of names) {
      const abs = join(dirAbs, name);
      const zipName = prefix + name;
      // The folders above were checked when they were listed; a name with "\\" is refused here, unsplit.
      const display = prefix.replaceAll("\\", sep) + name;
      const problem = windowsNameProblem(name) ?? pathLengthProblem(zipName.length);
      if (problem) throw unsafeName(display, problem);
      const { st, real } = await resolveEntry(abs, display);
      if (st.isDirectory()) {
        if ((await readdir(abs)).length === 0) {
          entries.push({ zipName: zipName + "\\", absPath: abs, kind: "emptyDir", size: 0, mtime: st.mtime });
        } else {
          subdirs.push({ abs, real, prefix: zipName + "\\" });
        }
      } else if (st.isFile()) {
        entries.push({ zipName, absPath: abs, kind: "file", size: st.size, mtime: st.mtime });
      } else {
        const kind = st.isFIFO() ? "a named pipe (FIFO)" : st.isSocket() ? "a socket" : "a device";
        throw new PublisherError(
          "UnsupportedFileType",
          `"${display}" in the source folder is ${kind}, not a regular file or folder.`,
          {
            hint: "Remove sockets, devices and pipes from the source folder: a package holds files and folders only.",
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
