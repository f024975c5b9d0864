/**
 * The name a downloaded installer is saved under outside the cache (`catalog download --out`, `catalog import`):
 * from the answer's Content-Disposition, else the URL's last path segment; never a path, and always a name Windows
 * can hold (the installer ends up in a package extracted on Windows).
 */
import { windowsNameProblem } from "../../intunewin/names.js";

const FALLBACK = "installer";

function fromContentDisposition(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (star !== null) {
    try {
      return decodeURIComponent(star[1]!.trim());
    } catch {
      // malformed percent-encoding: try the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;\s]+))/.exec(header);
  return plain === null ? undefined : (plain[1] ?? plain[2]);
}

function fromUrl(url: string): string | undefined {
  try {
    const last = new URL(url).pathname.split("/").at(-1) ?? "";
    return decodeURIComponent(last);
  } catch {
    return undefined;
  }
}

/** A safe file name: the last segment only, unsafe characters replaced, `installer` when nothing is left. */
export function safeFileName(candidate: string | undefined): string {
  if (candidate === undefined) return FALLBACK;
  const last = candidate.split(/[\\/]/).at(-1) ?? "";
  const cleaned = last
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f<>:"|?*]/g, "_")
    .replace(/[. ]+$/, "")
    .replace(/^[. ]+/, "")
    .slice(0, 200);
  if (cleaned === "" || windowsNameProblem(cleaned) !== undefined) return FALLBACK;
  return cleaned;
}

/** The name for a download, from its answer's headers and final URL. */
export function downloadFileName(contentDisposition: string | undefined, finalUrl: string): string {
  return safeFileName(fromContentDisposition(contentDisposition) ?? fromUrl(finalUrl));
}
