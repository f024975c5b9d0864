/**
 * Name suggestions for a name that resolved to nothing: "Pilot" → "Intune - Pilot devices". The words of the name
 * asked for are matched against whole words anywhere in each candidate's name, case-insensitively, and ranked:
 * an exact word before a word it starts, before a word a small edit away. A candidate no word of which matches is
 * not suggested.
 */

/** The words of a name: runs of letters and digits, lower-cased ("Intune - Pilot devices" → intune, pilot, devices). */
export function nameWords(name: string): string[] {
  return name.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Edit distance with adjacent transpositions ("pilto" → "pilot" is 1), given up past `max` (returns max + 1). */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1);
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** Edits a word of this length may be away and still be suggested: 1 up to 5 letters, 2 beyond; none under 3. */
const allowedEdits = (length: number): number => (length < 3 ? 0 : length <= 5 ? 1 : 2);

/** How well `word` (asked for) matches the best of `words`: 0 exact, 1 prefix, 2 + edits; undefined for none. */
function wordScore(word: string, words: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const w of words) {
    let s: number | undefined;
    if (w === word) s = 0;
    else if (w.startsWith(word) || (word.length >= 3 && word.startsWith(w) && w.length >= 3)) s = 1;
    else {
      const max = allowedEdits(word.length);
      const d = max === 0 ? max + 1 : distance(word, w, max);
      if (d <= max) s = 2 + d;
    }
    if (s !== undefined && (best === undefined || s < best)) best = s;
  }
  return best;
}

/**
 * The names among `candidates` that look like `asked`, best first, at most `max`: more of its words matched first,
 * then better matches (exact word > prefix > edit distance), then shorter names, then alphabetically.
 */
export function suggestNames(asked: string, candidates: Iterable<string>, max = 5): string[] {
  const words = [...new Set(nameWords(asked))];
  if (words.length === 0) return [];
  const scored: { name: string; missing: number; score: number }[] = [];
  const seen = new Set<string>();
  for (const name of candidates) {
    if (seen.has(name)) continue;
    seen.add(name);
    const own = nameWords(name);
    let missing = 0;
    let score = 0;
    for (const w of words) {
      const s = wordScore(w, own);
      if (s === undefined) missing++;
      else score += s;
    }
    if (missing < words.length) scored.push({ name, missing, score });
  }
  scored.sort(
    (a, b) =>
      a.missing - b.missing || a.score - b.score || a.name.length - b.name.length || a.name.localeCompare(b.name, "en"),
  );
  return scored.slice(0, max).map((s) => s.name);
}
