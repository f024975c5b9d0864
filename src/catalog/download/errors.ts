/** The downloader's refusals and failures, each a PublisherError with a code documented in docs/troubleshooting.md. */
import { PublisherError } from "../../core/errors.js";
import type { CodeOfKind } from "../../core/error-codes.js";
import { formatLimit } from "../../platform/fs.js";
import { redactUrl } from "../../clients/http/redact.js";

/** A URL as messages show it: no user info, query values other than harmless ones hidden. */
export const shown = (url: string): string => redactUrl(url);

export function hashMismatch(url: string, expected: string, actual: string, what: string): PublisherError {
  return new PublisherError(
    "HashMismatch",
    `The file downloaded from ${shown(url)} does not match its ${what}: expected SHA-256 ${expected}, got ${actual}. It was deleted; nothing from it is used.`,
    {
      hint: "The vendor's file changed or was damaged on the way. If the vendor published a new build under the same name, wait for the catalog to be updated; never use a file that fails this check.",
    },
  );
}

export function lockMismatch(
  url: string,
  id: string,
  version: string,
  expected: string,
  actual: string,
  lockFile: string,
): PublisherError {
  return new PublisherError(
    "LockMismatch",
    `The file downloaded from ${shown(url)} for ${id} ${version} is not the one recorded in ${lockFile}: expected SHA-256 ${expected}, got ${actual}. It was deleted; nothing from it is used.`,
    {
      hint: `The vendor changed the file of a version already downloaded. Check with the vendor; if the new file is genuine, remove the row of ${id} ${version} from the lock file and download again.`,
    },
  );
}

export function tooLarge(url: string, size: number | undefined, limit: number): PublisherError {
  const got = size === undefined ? "more than" : `${formatLimit(size)}, over`;
  return new PublisherError(
    "DownloadTooLarge",
    `The file at ${shown(url)} is ${got} the download limit of ${formatLimit(limit)}; nothing was kept.`,
    { hint: "If the file is genuine, raise the limit (maxBytes, docs/limits.md)." },
  );
}

export function badUrl(url: string, code: CodeOfKind<"input">, why: string, hint: string): PublisherError {
  return new PublisherError(code, `Refusing to download ${shown(url)}: ${why}.`, { hint });
}

export function redirectRefused(from: string, to: string, code: CodeOfKind<"network">, why: string): PublisherError {
  return new PublisherError(code, `${shown(from)} redirected to ${shown(to)}, ${why}; nothing was downloaded.`, {
    hint: "Check the download URL with the vendor; a pinned SHA-256 in the catalog entry allows a plain-HTTP mirror.",
  });
}

export function httpError(url: string, status: number, attempts: number): PublisherError {
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : "";
  return new PublisherError(
    "DownloadHttpError",
    `The server answered HTTP ${status} to ${shown(url)}${tries}; nothing was downloaded.`,
    {
      hint:
        status === 404 || status === 410
          ? "The file is no longer at that URL: the vendor moved or removed it; update the catalog entry."
          : "Try again later; if it persists, check the URL with the vendor.",
    },
  );
}

/** `hint`: the last failure's own advice when it has one (a proxy that refused the tunnel). */
export function incomplete(url: string, attempts: number, last: string, hint?: string): PublisherError {
  return new PublisherError(
    "DownloadIncomplete",
    `The download of ${shown(url)} did not complete after ${attempts} attempts (last: ${last}); the part received is kept to resume next time.`,
    { hint: hint ?? "Check the network or proxy and run the command again: it resumes where it stopped." },
  );
}
