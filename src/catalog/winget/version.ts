/**
 * winget's version ordering, re-implemented from its rules (winget-cli `src/AppInstallerSharedLib/Versions.cpp`,
 * class `Version`; the cases of `src/AppInstallerCLITests/Versions.cpp` are our tests). docs/catalog.md states them:
 *
 * 1. Surrounding white space is ignored. A leading `< ` or `> ` makes an approximate version ("less than" /
 *    "greater than" the rest).
 * 2. When a digit comes before the first `.` (or there is no `.`), everything before that digit is dropped:
 *    `v1.2` and `Version 1.2` are `1.2`.
 * 3. The rest is split on `.`; each part (trimmed) is a number (its leading digits, compared as a number, so `03` is
 *    `3`) followed by an optional text suffix (`1-rc` is 1 and `-rc`). A part without leading digits is 0 plus its
 *    text; a number too large for 64 bits makes the whole part text.
 * 4. Trailing parts that are exactly 0 are dropped: `0.85` equals `0.85.0.0`, `1.0.` equals `1`.
 * 5. Parts are compared left to right, the shorter version padded with 0: numbers first; for equal numbers, a part
 *    without suffix is greater than one with a suffix (`1-rc` < `1`), and two suffixes compare case-insensitively.
 * 6. `latest` (any case) is above every version, `unknown` below every one; an approximate version sits just below
 *    (`<`) or above (`>`) the version it names.
 */

interface Part {
  integer: bigint;
  other: string;
  folded: string;
}

const MAX_U64 = (1n << 64n) - 1n;
const EMPTY_PART: Part = { integer: 0n, other: "", folded: "" };

export type ApproximateComparator = "none" | "lessThan" | "greaterThan";

/** Case folding for suffix comparison (ICU's full folding in winget; upper-then-lower covers `ß` → `ss`). */
function fold(s: string): string {
  return s.toUpperCase().toLowerCase();
}

/** Code point order (what winget's byte comparison of UTF-8 gives), not UTF-16 unit order. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true || y.done === true) return x.done === true ? (y.done === true ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** One part: its leading number as C's strtoull reads it (optional sign; overflow keeps the part as text). */
function parsePart(raw: string): Part {
  const part = raw.trim();
  const m = /^([+-]?)(\d+)/.exec(part);
  if (m === null) return { integer: 0n, other: part, folded: fold(part) };
  const magnitude = BigInt(m[2]!);
  if (magnitude > MAX_U64) return { integer: 0n, other: part, folded: fold(part) };
  const integer = m[1] === "-" ? (MAX_U64 + 1n - magnitude) & MAX_U64 : magnitude;
  const other = part.slice(m[0].length);
  return { integer, other, folded: fold(other) };
}

function partLess(a: Part, b: Part): boolean {
  if (a.integer !== b.integer) return a.integer < b.integer;
  if (a.other === "") return false;
  if (b.other === "") return true;
  return compareCodePoints(a.folded, b.folded) < 0;
}

export class WingetVersion {
  /** The text as given, trimmed. */
  readonly text: string;
  readonly approximate: ApproximateComparator;
  private readonly parts: readonly Part[];

  constructor(text: string) {
    this.text = text.trim();
    let base = this.text;
    if (base.startsWith("< ")) {
      this.approximate = "lessThan";
      base = base.slice(2);
    } else if (base.startsWith("> ")) {
      this.approximate = "greaterThan";
      base = base.slice(2);
    } else this.approximate = "none";
    const digit = base.search(/\d/);
    const split = base.indexOf(".");
    if (digit !== -1 && (split === -1 || digit < split)) base = base.slice(digit);
    const parts = base === "" ? [] : base.split(".").map(parsePart);
    while (parts.length > 0 && parts.at(-1)!.integer === 0n && parts.at(-1)!.other === "") parts.pop();
    this.parts = parts;
  }

  /** Parts as [number, suffix] (for tests and explanations). */
  get partList(): readonly [bigint, string][] {
    return this.parts.map((p) => [p.integer, p.other]);
  }

  /** No text at all (`0` is not empty, though it has no parts left). */
  isEmpty(): boolean {
    return this.text === "";
  }

  private isBase(word: string): boolean {
    return this.parts.length === 1 && this.parts[0]!.integer === 0n && this.parts[0]!.folded === word;
  }

  /** `latest` (any case), not `< latest`. */
  isLatest(): boolean {
    return this.approximate !== "lessThan" && this.isBase("latest");
  }

  isUnknown(): boolean {
    return this.isBase("unknown");
  }

  isApproximate(): boolean {
    return this.approximate !== "none";
  }

  private approximateLess(other: WingetVersion): boolean {
    return (
      (this.approximate === "lessThan" && other.approximate !== "lessThan") ||
      (this.approximate === "none" && other.approximate === "greaterThan")
    );
  }

  lessThan(other: WingetVersion): boolean {
    const thisLatest = this.isBase("latest");
    const otherLatest = other.isBase("latest");
    if (thisLatest && otherLatest) return this.approximateLess(other);
    if (thisLatest || otherLatest) return otherLatest;
    const thisUnknown = this.isBase("unknown");
    const otherUnknown = other.isBase("unknown");
    if (thisUnknown && otherUnknown) return this.approximateLess(other);
    if (thisUnknown || otherUnknown) return thisUnknown;
    const n = Math.max(this.parts.length, other.parts.length);
    for (let i = 0; i < n; i++) {
      const a = this.parts[i] ?? EMPTY_PART;
      const b = other.parts[i] ?? EMPTY_PART;
      if (partLess(a, b)) return true;
      if (partLess(b, a)) return false;
    }
    return this.approximateLess(other);
  }

  equals(other: WingetVersion): boolean {
    if (this.approximate !== other.approximate) return false;
    if ((this.isBase("latest") && other.isBase("latest")) || (this.isBase("unknown") && other.isBase("unknown")))
      return true;
    if (this.parts.length !== other.parts.length) return false;
    return this.parts.every((p, i) => p.integer === other.parts[i]!.integer && p.folded === other.parts[i]!.folded);
  }
}

/** -1, 0 or 1 in winget's order (for sort). */
export function compareWingetVersions(a: string | WingetVersion, b: string | WingetVersion): number {
  const va = typeof a === "string" ? new WingetVersion(a) : a;
  const vb = typeof b === "string" ? new WingetVersion(b) : b;
  if (va.lessThan(vb)) return -1;
  if (vb.lessThan(va)) return 1;
  return 0;
}

/** The highest of `versions` in winget's order (the first written wins among equal ones), or undefined. */
export function newestVersion(versions: readonly string[]): string | undefined {
  let best: { text: string; version: WingetVersion } | undefined;
  for (const text of versions) {
    const version = new WingetVersion(text);
    if (best === undefined || best.version.lessThan(version)) best = { text, version };
  }
  return best?.text;
}
