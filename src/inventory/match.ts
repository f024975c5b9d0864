/**
 * Matching inventory names to catalog products. Names and publishers are normalised (case, trademark signs,
 * versions, architecture and edition suffixes such as "(x64)", punctuation), then compared with, in order of
 * confidence: the user's mappings; the products' AppsAndFeaturesEntries (DisplayName with Publisher, then
 * DisplayName alone); the product name (with publisher, then alone); the package id (`Publisher.Name` read as
 * words); a tag equal to the name. Each match says why. docs/inventory.md "Matching".
 */
import type { InventoryRules } from "../core/config/inventory-rules.js";
import { globMatcher } from "../core/config/inventory-rules.js";

export interface CatalogProduct {
  id: string;
  name: string;
  publisher?: string | undefined;
  /** the newest version (winget's ordering) */
  version: string;
  tags: readonly string[];
  /** AppsAndFeaturesEntries of the newest version, when known */
  arp?: readonly { displayName?: string | undefined; publisher?: string | undefined }[];
}

export interface Match {
  catalogId: string;
  /** 0–1 */
  confidence: number;
  reason: string;
}

const SUFFIXES =
  /\b(x64|x86|amd64|arm64|64[- ]?bit|32[- ]?bit|win64|win32|64|32|en-us|english|machine|user|msi|exe|setup|installer|x64 edition|\d+(\.\d+)*[a-z]?)\b/g;

/** A name as matching sees it: lower case, no trademark signs, versions, architectures or brackets. */
export function normaliseName(name: string): string {
  // trademark signs before NFKC, which spells ™ as "TM"
  return name
    .replace(/[\u2122\u00ae\u00a9]/g, " ")
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\((tm|r|c)\)/g, " ")
    .replace(/[([][^)\]]*[)\]]/g, " ")
    .replace(/\bv(?=\d)/g, " ")
    .replace(SUFFIXES, " ")
    .replace(/[^\p{L}\p{N}+#]+/gu, " ")
    .trim()
    .replace(/\s+/g, " ");
}

/** A publisher as matching sees it: also without company forms (Inc., Ltd, GmbH, Corporation, …). */
export function normalisePublisher(p: string): string {
  return normaliseName(p)
    .replace(/\b(inc|incorporated|ltd|limited|llc|gmbh|ag|corp|corporation|co|company|sa|srl|bv|plc|the)\b/g, " ")
    .trim()
    .replace(/\s+/g, " ");
}

interface Candidate {
  product: CatalogProduct;
  publisher: string;
}

export class CatalogMatcher {
  private readonly byArp = new Map<string, Candidate[]>();
  private readonly byName = new Map<string, Candidate[]>();
  private readonly byId = new Map<string, CatalogProduct>();
  private readonly byTag = new Map<string, CatalogProduct>();
  private readonly mappings: { name: (s: string) => boolean; publisher?: (s: string) => boolean; catalogId: string }[];
  private readonly exclusions: {
    name?: (s: string) => boolean;
    publisher?: (s: string) => boolean;
    catalogId?: string;
  }[];
  readonly products: ReadonlyMap<string, CatalogProduct>;

  constructor(products: readonly CatalogProduct[], rules: InventoryRules = { mappings: [], exclude: [] }) {
    const all = new Map<string, CatalogProduct>();
    const push = (m: Map<string, Candidate[]>, k: string, c: Candidate): void => {
      if (k === "") return;
      const l = m.get(k);
      if (l) l.push(c);
      else m.set(k, [c]);
    };
    for (const p of products) {
      all.set(p.id.toLowerCase(), p);
      const pub = normalisePublisher(p.publisher ?? "");
      for (const a of p.arp ?? [])
        if (a.displayName)
          push(this.byArp, normaliseName(a.displayName), {
            product: p,
            publisher: normalisePublisher(a.publisher ?? p.publisher ?? ""),
          });
      push(this.byName, normaliseName(p.name), { product: p, publisher: pub });
      const idWords = normaliseName(p.id.replace(/[._-]+/g, " "));
      if (!this.byId.has(idWords)) this.byId.set(idWords, p);
      for (const t of p.tags) {
        const k = normaliseName(t);
        if (k !== "" && !this.byTag.has(k)) this.byTag.set(k, p);
      }
    }
    this.products = all;
    this.mappings = rules.mappings.map((m) => ({
      name: globMatcher(m.name),
      ...(m.publisher ? { publisher: globMatcher(m.publisher) } : {}),
      catalogId: m.catalogId,
    }));
    this.exclusions = rules.exclude.map((e) => ({
      ...(e.name ? { name: globMatcher(e.name) } : {}),
      ...(e.publisher ? { publisher: globMatcher(e.publisher) } : {}),
      ...(e.catalogId ? { catalogId: e.catalogId.toLowerCase() } : {}),
    }));
  }

  /** Whether the user excluded this inventory name (or the catalog product it matched). */
  excluded(name: string, publisher: string, catalogId: string | undefined): boolean {
    return this.exclusions.some(
      (e) =>
        (e.name === undefined || e.name(name)) &&
        (e.publisher === undefined || e.publisher(publisher)) &&
        (e.catalogId === undefined || e.catalogId === catalogId?.toLowerCase()) &&
        (e.name !== undefined || e.catalogId !== undefined),
    );
  }

  match(name: string, publisher: string): Match | undefined {
    for (const m of this.mappings)
      if (m.name(name) && (m.publisher === undefined || m.publisher(publisher))) {
        const p = this.products.get(m.catalogId.toLowerCase());
        return {
          catalogId: p?.id ?? m.catalogId,
          confidence: 1,
          reason: p ? "your mapping" : "your mapping (the id is not in the catalog)",
        };
      }
    const n = normaliseName(name);
    if (n === "") return undefined;
    const pub = normalisePublisher(publisher);
    const pick = (list: Candidate[] | undefined, withPub: number, alone: number, what: string): Match | undefined => {
      if (!list || list.length === 0) return undefined;
      const same = list.find((c) => pub !== "" && c.publisher === pub);
      if (same) return { catalogId: same.product.id, confidence: withPub, reason: `${what} and publisher` };
      if (list.length === 1 && list[0])
        return { catalogId: list[0].product.id, confidence: alone, reason: `${what} (publisher differs)` };
      return undefined;
    };
    const found =
      pick(this.byArp.get(n), 0.95, 0.85, "AppsAndFeaturesEntries DisplayName") ??
      pick(this.byName.get(n), 0.9, 0.75, "product name");
    if (found) return found;
    const byId = this.byId.get(n) ?? (pub !== "" ? this.byId.get(`${pub} ${n}`) : undefined);
    if (byId) return { catalogId: byId.id, confidence: 0.7, reason: "package id" };
    const byTag = this.byTag.get(n);
    if (byTag) return { catalogId: byTag.id, confidence: 0.4, reason: "tag" };
    return undefined;
  }
}
