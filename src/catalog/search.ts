/**
 * The package index and search over it. The index's shape is the community index that WinTuner and IntuneGet use
 * (svrooij/winget-pkgs-index `index.v2.json`, docs/catalog.md "Package index"): a JSON array of
 * `{ "PackageId", "Name", "Version", "Tags", "LastUpdate" }`; we also accept `Versions` (every version, so the
 * newest is chosen in winget's order rather than the index's) and `Moniker`.
 *
 * Search is a scan over fields lower-cased once at load (10,000 packages: well under a millisecond per query):
 * every word of the query must occur in the id, name, moniker or a tag; exact and prefix matches of the whole query
 * rank first.
 */
import { z } from "zod";
import { catalogError } from "./errors.js";
import { isPackageId, isPackageVersion, printable } from "./winget/layout.js";
import { newestVersion } from "./winget/version.js";

export interface IndexEntry {
  id: string;
  name: string;
  /** The newest version (in winget's order when `versions` is known). */
  version: string;
  tags: string[];
  moniker?: string;
  lastUpdate?: string;
  /** Every version, when the index lists them. */
  versions?: string[];
}

export interface SearchHit extends IndexEntry {
  /** Lower is better: 0 id, 1 name or moniker equal to the query; 2–3 prefixes; 4–6 substrings; 7 every word. */
  rank: number;
}

interface Prepared {
  entry: IndexEntry;
  id: string;
  name: string;
  moniker: string;
  tags: string[];
  all: string;
}

/** Limits (docs/limits.md). */
export const INDEX_LIMITS = {
  /** index.v2.json of the whole community repository is about 3 MB (2026). */
  maxIndexBytes: 64 * 1024 * 1024,
  maxEntries: 500_000,
  maxQueryLength: 200,
  defaultResults: 50,
} as const;

export class CatalogIndex {
  readonly entries: readonly IndexEntry[];
  /** Entries left out of the index, with why (at most 20 listed). */
  readonly skipped: readonly string[];
  private readonly prepared: Prepared[];
  private readonly byId = new Map<string, IndexEntry>();

  constructor(entries: readonly IndexEntry[], skipped: readonly string[] = []) {
    this.entries = entries;
    this.skipped = skipped;
    this.prepared = entries.map((entry) => {
      const p: Prepared = {
        entry,
        id: entry.id.toLowerCase(),
        name: entry.name.toLowerCase(),
        moniker: (entry.moniker ?? "").toLowerCase(),
        tags: entry.tags.map((t) => t.toLowerCase()),
        all: "",
      };
      p.all = [p.id, p.name, p.moniker, ...p.tags].join("\n");
      return p;
    });
    for (const e of entries) if (!this.byId.has(e.id.toLowerCase())) this.byId.set(e.id.toLowerCase(), e);
  }

  /** The entry with this id (ids are case-insensitive in winget). */
  get(id: string): IndexEntry | undefined {
    return this.byId.get(id.toLowerCase());
  }

  search(query: string, limit: number = INDEX_LIMITS.defaultResults): SearchHit[] {
    const q = query.trim().toLowerCase();
    if (q === "")
      throw catalogError("EmptySearch", "The search text is empty.", "Give a word of the product's name or id.");
    if (q.length > INDEX_LIMITS.maxQueryLength)
      throw catalogError(
        "SearchTooLong",
        `The search text is ${q.length} characters; at most ${INDEX_LIMITS.maxQueryLength}.`,
        "Search for a word of the product's name or id.",
      );
    const words = q.split(/\s+/);
    const found: { p: Prepared; rank: number }[] = [];
    for (const p of this.prepared) {
      const rank = rankOf(p, q, words);
      if (rank !== undefined) found.push({ p, rank });
    }
    // Plain code-unit comparison of the lower-cased fields: localeCompare costs more than the scan itself.
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    found.sort((a, b) => a.rank - b.rank || cmp(a.p.name, b.p.name) || cmp(a.p.id, b.p.id));
    return found.slice(0, limit).map(({ p, rank }) => ({ ...p.entry, rank }));
  }
}

function rankOf(p: Prepared, q: string, words: string[]): number | undefined {
  if (p.id === q) return 0;
  if (p.name === q || p.moniker === q) return 1;
  if (p.id.startsWith(q)) return 2;
  if (p.name.startsWith(q) || p.moniker.startsWith(q)) return 3;
  if (p.id.includes(q)) return 4;
  if (p.name.includes(q)) return 5;
  if (p.tags.some((t) => t === q)) return 6;
  if (words.every((w) => p.all.includes(w))) return 7;
  return undefined;
}

const indexEntrySchema = z.object({
  PackageId: z.string(),
  Name: z.string().optional(),
  Version: z.string(),
  Tags: z.array(z.string()).nullable().optional(),
  LastUpdate: z.string().nullable().optional(),
  Versions: z.array(z.string()).optional(),
  Moniker: z.string().nullable().optional(),
});

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Parses `index.v2.json` text. A malformed document is refused; a malformed entry (an id or version that cannot
 * name a folder, control characters) is left out and listed in `skipped`, so one bad line does not hide the rest.
 */
export function parseIndexJson(text: string, where: string): CatalogIndex {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw catalogError(
      "InvalidCatalogIndex",
      `The package index ${where} is not JSON: ${(e as Error).message}.`,
      "The index is a JSON array of { PackageId, Name, Version, Tags, LastUpdate } (docs/catalog.md).",
    );
  }
  if (!Array.isArray(data))
    throw catalogError(
      "InvalidCatalogIndex",
      `The package index ${where} is not a JSON array.`,
      "The index is a JSON array of { PackageId, Name, Version, Tags, LastUpdate } (docs/catalog.md).",
    );
  if (data.length > INDEX_LIMITS.maxEntries)
    throw catalogError(
      "InvalidCatalogIndex",
      `The package index ${where} has ${data.length} entries; at most ${INDEX_LIMITS.maxEntries} are read.`,
      "Check the index URL.",
    );
  const entries: IndexEntry[] = [];
  const skipped: string[] = [];
  let skippedCount = 0;
  const skip = (i: number, why: string) => {
    if (++skippedCount <= 20) skipped.push(`[${i}]: ${why}`);
  };
  data.forEach((raw, i) => {
    const r = indexEntrySchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      return skip(i, `${issue.path.join(".") || "(entry)"}: ${issue.message}`);
    }
    const e = r.data;
    if (!isPackageId(e.PackageId)) return skip(i, `PackageId "${printable(e.PackageId)}" is not a package id.`);
    const versions = (e.Versions ?? []).filter(isPackageVersion);
    const version = versions.length > 0 ? newestVersion(versions)! : e.Version;
    if (!isPackageVersion(version)) return skip(i, `Version "${printable(version)}" cannot be a version folder.`);
    const texts = [e.Name ?? "", e.Moniker ?? "", ...(e.Tags ?? [])];
    if (texts.some((t) => CONTROL.test(t))) return skip(i, "control characters in Name, Moniker or Tags.");
    const entry: IndexEntry = { id: e.PackageId, name: e.Name ?? e.PackageId, version, tags: e.Tags ?? [] };
    if (e.Moniker) entry.moniker = e.Moniker;
    if (e.LastUpdate) entry.lastUpdate = e.LastUpdate;
    if (versions.length > 0) entry.versions = versions;
    entries.push(entry);
  });
  if (skippedCount > 20) skipped.push(`… and ${skippedCount - 20} more`);
  return new CatalogIndex(entries, skipped);
}
