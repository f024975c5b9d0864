/**
 * File names as Windows sees them. Intune extracts a package on Windows, so `package` refuses a source file whose
 * name Windows cannot hold, and `unpack` refuses an entry with such a name (the tool runs on Windows too, where
 * `CON` or `x:y` would reach a device or an alternate data stream). Rules from Microsoft's "Naming Files, Paths,
 * and Namespaces".
 */

/** Characters per name (one folder or file), as NTFS counts them (UTF-16 units). */
export const MAX_SEGMENT_LENGTH = 255;
/** Characters per path inside a package: four times Windows' classic MAX_PATH, far deeper than any installer. */
export const MAX_PATH_LENGTH = 1024;

const RESERVED = new Set([
  "CON",
  "PRN",
  "AUX",
  "NUL",
  "CONIN$",
  "CONOUT$",
  ...[..."0123456789\u00b9\u00b2\u00b3"].flatMap((d) => [`COM${d}`, `LPT${d}`]),
]);
const FORBIDDEN = /[<>:"|?*\\/]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f]/;

/** Why Windows cannot hold `segment` as one file or folder name, or undefined when it can. */
export function windowsNameProblem(segment: string): string | undefined {
  const control = CONTROL.exec(segment);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    return `it contains the control character U+${code}, which Windows does not allow in names`;
  }
  const forbidden = FORBIDDEN.exec(segment);
  if (forbidden) return `it contains "${forbidden[0]}", which Windows does not allow in names`;
  if (segment.endsWith(".")) return "it ends in a dot, which Windows drops from names";
  if (segment.endsWith(" ")) return "it ends in a space, which Windows drops from names";
  const device = segment.split(".")[0]!.trimEnd().toUpperCase();
  if (RESERVED.has(device)) return `${device} is a reserved device name on Windows, with or without an extension`;
  if (segment.length > MAX_SEGMENT_LENGTH)
    return `it is ${segment.length} characters long; Windows allows ${MAX_SEGMENT_LENGTH} per name`;
  return undefined;
}

/**
 * Why a relative path (segments already split) is not safe to extract on Windows, or undefined. The length
 * counts the path as written in the package, with one separator between segments.
 */
export function windowsPathProblem(segments: readonly string[]): string | undefined {
  const tooLong = pathLengthProblem(segments.reduce((n, s) => n + s.length, 0) + Math.max(0, segments.length - 1));
  if (tooLong) return tooLong;
  for (const s of segments) {
    const problem = windowsNameProblem(s);
    if (problem) return `"${s}": ${problem}`;
  }
  return undefined;
}

/** Why a path of `length` characters is too long for a package, or undefined. */
export function pathLengthProblem(length: number): string | undefined {
  return length > MAX_PATH_LENGTH
    ? `the path is ${length} characters long, over the limit of ${MAX_PATH_LENGTH} for a path in a package`
    : undefined;
}

/**
 * Upper-cases as Windows compares names: character by character, never changing the length (so "ß" stays "ß",
 * where `toUpperCase` would give "SS").
 */
export function windowsUpper(s: string): string {
  const upper = s.toUpperCase();
  if (upper.length === s.length) return upper;
  let out = "";
  for (const ch of s) {
    const u = ch.toUpperCase();
    out += u.length === ch.length ? u : ch;
  }
  return out;
}
