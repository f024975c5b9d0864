// The repository explains itself: a public clone has nothing beside it. No comment, test name or document in src/,
// emulator/, test/, bench/, scripts/, docs/ or the README points at notes kept outside the repository, cites a `§`
// section that no file here has, carries a source tag of those notes, or cites an issue number of this project.
// `§` sections are those of docs/reference/ (its README says how citations read); public standards (`RFC n §x`)
// and other projects' public issues (`owner/repo #n`, `IntuneWin32App issue n`) are fine.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../support/paths.js";

const root = repoRoot();
const SCANNED = ["src", "emulator", "test", "bench", "scripts", "docs"];
const EXTENSIONS = /\.(ts|mts|cts|js|mjs|cjs|md)$/;
/** Third-party data kept as found (winget manifests quote their vendors' release notes). */
const SKIPPED = [join("test", "fixtures", "winget", "pkgs")];
/** This file plants what it looks for, in its scanner's own tests. */
const SELF = join("test", "lint", "self-contained.test.ts");
/** The one page that names the outside notes and their sections, to say where those sections now live. */
const PROVENANCE = join("docs", "reference", "README.md");

const OUTSIDE_NOTES =
  /\b(intune-win32-protocol|entra-auth-and-graph|local-stack-notes|feature-landscape|style-anchors)\b/;
const SHARED = /(?:\.\.\/)+shared\b|\bshared\/(?:docs|testdata)\b/;
const SOURCE_TAG = /\[(?:S|PC|P|G|E|N)\d+[\w-]*[\],; ]/;
const SECTION = /§\s?(\d+(?:\.\d+)*)/g;
const LEGEND = /\*\*\[([A-Z]) §n\]\*\* = ([^;]*)/g;
/** A `§` belongs to the nearest file or standard cited before it on its line, else to the pages the file names. */
const CITED = /(RFC \d+|[\w./-]+\.md)(?:[^\w.]|$)/g;
const ISSUE_WORD = /\b(?:issues?|PRs?|pull requests?)\s+#?\d+/gi;
const HASH_NUMBER = /(?:^|[^\w&/#])#\d+\b/g;
/** Who may own a public issue: `owner/repo`, or a project name such as IntuneWin32App or msgraph-beta-sdk-dotnet. */
const PROJECT = /^(?:[\w.-]+\/[\w.-]+|[A-Z][\w-]*[A-Z0-9][\w-]*|[a-z][a-z0-9]*-[\w-]+)$/;
/** The word before an issue reference, past a list of them (`#3, #23 and #127`). */
const ownerBefore = (text: string): string =>
  /([\w./-]+)$/.exec(text.replace(/(?:[\s,(]|\band\b|#\d+)+$/, ""))?.[1] ?? "";

export interface Problem {
  line: number;
  what: string;
}

/** Section numbers a markdown file has: the numbers its headings start with or carry (`## 1.5 … and 1.6 …`). */
function sectionsOf(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (!h) continue;
    for (const m of h[1]!.matchAll(/(?:^|\s)(\d+(?:\.\d+)*)\.?(?=\s|$)/g)) out.add(m[1]!);
  }
  return out;
}

const hasSection = (sections: Set<string>, sec: string): boolean =>
  [...sections].some((s) => s === sec || s.startsWith(sec + "."));

/** Finds a cited markdown file inside the repository: beside the citing file, from the root, in docs/ or docs/reference/. */
export type Resolve = (from: string, name: string) => { path: string; sections: Set<string> } | undefined;

export function repoResolver(base: string): Resolve {
  const cache = new Map<string, Set<string> | undefined>();
  return (from, name) => {
    for (const dir of [dirname(from), ".", "docs", join("docs", "reference")]) {
      const p = join(base, dir, name);
      if (relative(base, p).startsWith("..")) continue; // beside the repository is outside it
      if (!cache.has(p))
        cache.set(p, existsSync(p) && statSync(p).isFile() ? sectionsOf(readFileSync(p, "utf8")) : undefined);
      const got = cache.get(p);
      if (got)
        return {
          path: join(dir, name)
            .split(sep)
            .join("/")
            .replace(/^(\.\/)+/, ""),
          sections: got,
        };
    }
    return undefined;
  };
}

/** What in one file points outside the repository. `path` is relative to the root. */
export function problems(path: string, text: string, resolve: Resolve): Problem[] {
  const out: Problem[] = [];
  const lines = text.split("\n");
  // Pages named anywhere in the file answer its bare `§n` (and a page answers its own).
  const named: { path: string; sections: Set<string> }[] = [];
  for (const m of text.matchAll(/[\w./-]+\.md\b/g)) {
    const found = resolve(path, m[0]);
    if (found) named.push(found);
  }
  if (path.endsWith(".md")) named.push({ path, sections: sectionsOf(text) });
  // A document may define abbreviations for pages: `**[E §n]** = [entra-auth.md](reference/entra-auth.md) (§1), …`.
  const legends = new Map<string, { path: string; sections: Set<string> }[]>();
  for (const m of text.matchAll(LEGEND)) {
    const pages = [...m[2]!.matchAll(/\(([^()\s]+\.md)\)/g)].map((l) => resolve(path, l[1]!));
    legends.set(
      m[1]!,
      pages.filter((p) => p !== undefined),
    );
  }
  lines.forEach((line, i) => {
    const add = (what: string): void => void out.push({ line: i + 1, what });
    if (SHARED.test(line)) add("points at ../shared, which a clone of the repository does not have");
    if (path !== PROVENANCE && OUTSIDE_NOTES.test(line))
      add("cites notes kept outside the repository; cite the docs/reference/ page instead");
    if (SOURCE_TAG.test(line)) add("carries a source tag of the outside notes; name the source instead");
    for (const m of path === PROVENANCE ? [] : line.matchAll(SECTION)) {
      const sec = m[1]!;
      const before = line.slice(0, m.index);
      const cited = [...before.matchAll(CITED)].at(-1);
      if (cited?.[1]!.startsWith("RFC")) continue;
      const open = before.lastIndexOf("[");
      const abbr = (/\b([A-Z]) $/.exec(before) ??
        (before.includes("]", open) ? null : /^\[([A-Z]) /.exec(before.slice(open))))?.[1];
      const legend = abbr === undefined ? undefined : legends.get(abbr);
      if (legend) {
        const pages = legend.filter((p) => hasSection(p.sections, sec));
        if (pages.length !== 1)
          add(
            `cites §${sec} of [${abbr}], whose pages have ${pages.length === 0 ? "no" : "more than one"} such section`,
          );
      } else if (cited) {
        const target = resolve(path, cited[1]!);
        if (!target) add(`cites §${sec} of ${cited[1]}, which is not in the repository`);
        else if (!hasSection(target.sections, sec)) add(`cites §${sec} of ${cited[1]}, which has no such section`);
      } else {
        const pages = new Set(named.filter((n) => hasSection(n.sections, sec)).map((n) => n.path));
        if (pages.size === 0) add(`cites §${sec}, which no page this file names has`);
        if (pages.size > 1) add(`cites §${sec}, which several pages this file names have; name the page`);
      }
    }
    for (const m of line.matchAll(ISSUE_WORD)) {
      if (!PROJECT.test(ownerBefore(line.slice(0, m.index))))
        add(`cites an issue number ("${m[0]}"); say what it stands for`);
    }
    for (const m of line.matchAll(HASH_NUMBER)) {
      if (!PROJECT.test(ownerBefore(line.slice(0, m.index + m[0].indexOf("#")))))
        add(`cites an issue number ("${m[0].trim()}"); say what it stands for`);
    }
  });
  return out;
}

function scannedFiles(dir: string, out: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules" && !SKIPPED.includes(p)) scannedFiles(p, out);
    } else if (EXTENSIONS.test(e.name) && p !== SELF) out.push(p);
  }
  return out;
}

describe("the repository is self-contained", () => {
  it("no file points outside it or at an issue number", () => {
    const resolve = repoResolver(root);
    const files = [...SCANNED.flatMap((d) => scannedFiles(d)), "README.md"];
    assert.ok(files.length > 100, `only ${files.length} files found under ${root}`);
    const found = files.flatMap((f) =>
      problems(f, readFileSync(join(root, f), "utf8"), resolve).map(
        (p) => `${f.split(sep).join("/")}:${p.line}: ${p.what}`,
      ),
    );
    assert.deepEqual(found, [], `\n${found.join("\n")}\n`);
  });
});

describe("the scanner", () => {
  const resolve = repoResolver(root);
  const at = join("src", "x.ts");
  const flagged = (text: string): string[] => problems(at, text, resolve).map((p) => p.what);

  for (const planted of [
    "// see ../shared/docs/intune-win32-protocol.md",
    "// ../../other/notes.md §1.1",
    "// facts: intune-win32-protocol.md §2.7",
    "// local-stack-notes §2.5",
    "// docs/reference/graph-win32-upload.md §9.9",
    "// docs/reference/nowhere.md §2.7",
    "// DESIGN.md §2",
    "// bare §2.7 with no page named",
    "// docs/reference/entra-errors.md §2.3, §6.1",
    "// the commit body [S6]",
    "Patch My PC's retention [P2, P17]",
    "// (issue 12 item 3)",
    "// Issue 5 asks for three figures",
    "// the failure of §3 #11",
  ]) {
    it(`flags ${JSON.stringify(planted)}`, () => assert.notDeepEqual(flagged(planted), []));
  }

  for (const fine of [
    "// docs/reference/graph-win32-upload.md §2.7, §4 item 16",
    "// docs/reference/entra-errors.md §2.3 and later §2.2",
    "// safe methods (RFC 9110 §9.2.2, §9.2.1)",
    "// IntuneWin32App issue 181; IntuneGet PRs 203, 435; msgraph-beta-sdk-dotnet issue 699",
    "// MSEndpointMgr/IntuneWin32App #3, #23",
    "// a `#microsoft.graph.win32LobApp` cast, x5t#S256",
  ]) {
    it(`passes ${JSON.stringify(fine)}`, () => assert.deepEqual(flagged(fine), []));
  }

  it("resolves a bare § against the pages the file names elsewhere", () => {
    const text = "// docs/reference/graph-win32-upload.md §2.1\nconst x = 1; // §2.13\n// §1.4\n";
    assert.deepEqual(
      problems(at, text, resolve).map((p) => p.line),
      [3],
    );
  });

  it("reads a document's abbreviations for pages", () => {
    const doc = join("docs", "x.md");
    const text =
      "**[E §n]** = [entra-auth.md](reference/entra-auth.md) (§1), [entra-errors.md](reference/entra-errors.md) (§2);\n" +
      "| a rule | [E §1.1, §2.1] |\n| another | [E §6.1] |\n| a third | [E §2.2] |\n";
    assert.deepEqual(
      problems(doc, text, resolve).map((p) => p.line),
      [3],
    );
  });

  it("names file and line of each problem", () => {
    const f = join("test", "planted.test.ts");
    assert.deepEqual(problems(f, "// fine\n// (issue 11)\n", resolve), [
      { line: 2, what: 'cites an issue number ("issue 11"); say what it stands for' },
    ]);
  });
});
