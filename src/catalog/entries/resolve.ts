/**
 * The newest version of a catalog entry, from its source (docs/catalog.md "Catalog entries"): a feed read over our
 * HTTP pipeline with a bounded body, then every value it gives checked as if a user had written it (a version that
 * can name a folder, an https URL without credentials, a 64-digit hash).
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { catalogError } from "../errors.js";
import type { CatalogHttp } from "../http.js";
import { checkUrl } from "../http.js";
import { isPackageVersion, printable } from "../winget/layout.js";
import type { CatalogEntry, EntrySource } from "./schema.js";

/** Limits of a feed document (docs/limits.md). */
export const FEED_LIMITS = {
  maxFeedBytes: 4 * 1024 * 1024,
  /** GitHub's release answer lists every asset; a few hundred KiB at most. */
  maxReleaseBytes: 4 * 1024 * 1024,
} as const;

export interface ResolvedVersion {
  /** Undefined for a fixed URL: the MSI's ProductVersion gives it after download. */
  version?: string;
  url: string;
  sha256?: string;
  /** How it was found, in words. */
  how: string;
}

function feedError(entry: CatalogEntry, message: string): never {
  throw catalogError(
    "CatalogFeedInvalid",
    `${entry.id}: ${message}`,
    "Check the entry's source paths against the feed (docs/catalog.md), or the feed itself.",
  );
}

/** A value of a JSON document at `a.b[0].c` (a leading `$.` is allowed). */
export function jsonAt(data: unknown, path: string): unknown {
  let cur: unknown = data;
  for (const step of path.replace(/^\$\./, "").split(".")) {
    const m = /^([^[]+)((\[\d+\])*)$/.exec(step);
    if (m === null) return undefined;
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = Object.prototype.hasOwnProperty.call(cur, m[1]!) ? (cur as Record<string, unknown>)[m[1]!] : undefined;
    for (const idx of m[2]!.match(/\d+/g) ?? []) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(idx)];
    }
  }
  return cur;
}

/** An XML document, checked well-formed, for `xmlAt` (entities are not expanded). */
export function parseXml(xml: string): unknown {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`${valid.err.msg} (line ${valid.err.line})`);
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@",
    processEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    isArray: () => true,
  }).parse(xml);
}

/** A value at `/a/b[1]/c/@attr` of a parsed XML document (XPath's 1-based index; without one, the first). */
export function xmlAt(doc: unknown, path: string): string | undefined {
  let cur: unknown = doc;
  for (const step of path.split("/").filter((s) => s !== "")) {
    const m = /^(@?[^[]+)(?:\[(\d+)\])?$/.exec(step);
    if (m === null || cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    const list = (cur as Record<string, unknown>)[m[1]!];
    if (!Array.isArray(list)) return undefined;
    cur = list[m[2] === undefined ? 0 : Number(m[2]) - 1];
  }
  if (typeof cur === "string" || typeof cur === "number") return String(cur).trim();
  if (cur !== null && typeof cur === "object" && !Array.isArray(cur)) {
    const text = (cur as Record<string, unknown>)["#text"];
    const first: unknown = Array.isArray(text) ? text[0] : text;
    if (typeof first === "string" || typeof first === "number") return String(first).trim();
  }
  return undefined;
}

function asVersion(entry: CatalogEntry, value: unknown, where: string): string {
  const v = typeof value === "number" ? String(value) : value;
  if (typeof v !== "string" || v.trim() === "") feedError(entry, `the feed has no version at ${where}.`);
  const text = (v as string).trim();
  if (!isPackageVersion(text) || text.length > 64)
    feedError(
      entry,
      `the feed's version "${printable(text.slice(0, 80))}" (at ${where}) cannot be a version: at most 64 characters, not . or .., no \\ / : * ? " < > | or control characters.`,
    );
  return text;
}

function asUrl(entry: CatalogEntry, value: unknown, where: string, hashed: boolean): string {
  if (typeof value !== "string" || value.trim() === "") feedError(entry, `the feed has no download URL at ${where}.`);
  return checkUrl((value as string).trim(), `download URL of ${entry.id} (from the feed, ${where})`, {
    allowHttp: hashed,
  }).href;
}

function asSha256(entry: CatalogEntry, value: unknown, where: string): string {
  if (typeof value !== "string" || !/^(sha256:)?[A-Fa-f0-9]{64}$/.test(value.trim()))
    feedError(entry, `the feed's SHA-256 at ${where} is not 64 hexadecimal digits.`);
  return (value as string)
    .trim()
    .replace(/^sha256:/, "")
    .toLowerCase();
}

/** `*` any run of characters, `?` one; case-insensitive, whole name. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

export async function resolveEntryVersion(entry: CatalogEntry, http: CatalogHttp): Promise<ResolvedVersion> {
  const source: EntrySource = entry.source;
  switch (source.kind) {
    case "fixed": {
      const url = checkUrl(source.url, `source.url of ${entry.id}`, { allowHttp: source.sha256 !== undefined }).href;
      const out: ResolvedVersion = {
        url,
        how: "a fixed URL: the version is the MSI's ProductVersion, read after download",
      };
      if (source.sha256 !== undefined) out.sha256 = source.sha256.toLowerCase();
      return out;
    }
    case "json": {
      const text = await fetchFeed(entry, source.feed, http, FEED_LIMITS.maxFeedBytes, "application/json");
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (e) {
        feedError(entry, `the feed ${source.feed} is not JSON (${(e as Error).message}).`);
      }
      const sha = source.sha256 === undefined ? undefined : asSha256(entry, jsonAt(data, source.sha256), source.sha256);
      const out: ResolvedVersion = {
        version: asVersion(entry, jsonAt(data, source.version), source.version),
        url: asUrl(entry, jsonAt(data, source.url), source.url, sha !== undefined),
        how: `the JSON feed ${source.feed}`,
      };
      if (sha !== undefined) out.sha256 = sha;
      return out;
    }
    case "xml": {
      const text = await fetchFeed(entry, source.feed, http, FEED_LIMITS.maxFeedBytes, "application/xml, text/xml");
      let doc: unknown;
      try {
        doc = parseXml(text);
      } catch (e) {
        feedError(entry, `the feed ${source.feed} is not well-formed XML (${(e as Error).message}).`);
      }
      const at = (p: string) => xmlAt(doc, p);
      const sha = source.sha256 === undefined ? undefined : asSha256(entry, at(source.sha256), source.sha256);
      const out: ResolvedVersion = {
        version: asVersion(entry, at(source.version), source.version),
        url: asUrl(entry, at(source.url), source.url, sha !== undefined),
        how: `the XML feed ${source.feed}`,
      };
      if (sha !== undefined) out.sha256 = sha;
      return out;
    }
    case "github": {
      const api = checkUrl(source.api, `source.api of ${entry.id}`);
      const releaseUrl = new URL(
        `repos/${source.repository}/releases/latest`,
        api.href.endsWith("/") ? api : `${api.href}/`,
      );
      const text = await fetchFeed(
        entry,
        releaseUrl.href,
        http,
        FEED_LIMITS.maxReleaseBytes,
        "application/vnd.github+json",
      );
      let release: { tag_name?: unknown; assets?: unknown };
      try {
        release = JSON.parse(text) as typeof release;
      } catch (e) {
        feedError(entry, `the release answer of ${source.repository} is not JSON (${(e as Error).message}).`);
      }
      const tag = typeof release!.tag_name === "string" ? release!.tag_name : undefined;
      if (tag === undefined) feedError(entry, `the latest release of ${source.repository} has no tag_name.`);
      const version = asVersion(
        entry,
        tag!.startsWith(source.tagPrefix) ? tag!.slice(source.tagPrefix.length) : tag,
        "tag_name",
      );
      const assets = Array.isArray(release!.assets) ? (release!.assets as Record<string, unknown>[]) : [];
      const re = globToRegExp(source.asset);
      const matches = assets.filter((a) => typeof a.name === "string" && re.test(a.name));
      if (matches.length !== 1)
        feedError(
          entry,
          matches.length === 0
            ? `no asset of release ${tag} matches "${source.asset}" (assets: ${assets.map((a) => String(a.name)).join(", ") || "none"}).`
            : `${matches.length} assets of release ${tag} match "${source.asset}" (${matches.map((a) => String(a.name)).join(", ")}): make the pattern name one.`,
        );
      const asset = matches[0]!;
      const digest = typeof asset.digest === "string" && asset.digest.startsWith("sha256:") ? asset.digest : undefined;
      const sha = digest === undefined ? undefined : asSha256(entry, digest, "the asset's digest");
      const out: ResolvedVersion = {
        version,
        url: asUrl(entry, asset.browser_download_url, "browser_download_url", sha !== undefined),
        how: `the latest release of ${source.repository} (${tag}), asset ${String(asset.name)}`,
      };
      if (sha !== undefined) out.sha256 = sha;
      return out;
    }
  }
}

async function fetchFeed(
  entry: CatalogEntry,
  url: string,
  http: CatalogHttp,
  maxBytes: number,
  accept: string,
): Promise<string> {
  const text = await http.getText(url, `feed of ${entry.id}`, maxBytes, accept);
  if (text === undefined) feedError(entry, `the feed ${url} does not exist (HTTP 404).`);
  return text!;
}
