/**
 * Small documents over HTTPS for the catalog (indexes, manifests, feeds, release lists): our HTTP pipeline (proxy,
 * TLS trust, retries, redaction), every body bounded, redirects followed a few times and only to HTTPS, URLs with
 * credentials refused. Installers are not fetched here: src/catalog/download streams them.
 */
import { PublisherError } from "../core/errors.js";
import type { HttpPipeline } from "../clients/http/pipeline.js";
import { redactUrl } from "../clients/http/redact.js";
import { catalogError } from "./errors.js";
import { printable } from "./winget/layout.js";

export const MAX_REDIRECTS = 5;

export interface CatalogHttp {
  /** The body of `url` as text, or undefined when the server answers 404 or 410. */
  getText(url: string, what: string, maxBytes: number, accept?: string): Promise<string | undefined>;
}

/**
 * Checks a URL the catalog will fetch: HTTPS (http only when `allowHttp`, e.g. an installer pinned by its hash),
 * no user name or password in it, no control characters or spaces. Returns the parsed URL.
 */
export function checkUrl(raw: string, what: string, options: { allowHttp?: boolean } = {}): URL {
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u0020\u007f]/.test(raw) || !URL.canParse(raw))
    throw catalogError("InvalidUrl", `The ${what} "${printable(raw)}" is not a valid URL.`, "Give an https:// URL.");
  const url = new URL(raw);
  if (url.username !== "" || url.password !== "")
    throw catalogError(
      "UrlWithCredentials",
      `The ${what} ${url.protocol}//…@${url.host}${url.pathname} carries a user name or password: refused (it would end up in logs and definitions).`,
      "Remove the credentials from the URL; the catalog fetches public documents only.",
    );
  if (url.protocol !== "https:" && !(options.allowHttp === true && url.protocol === "http:"))
    throw catalogError(
      "InsecureUrl",
      `The ${what} ${url.protocol}//${url.host}${url.pathname} is not HTTPS: refused.`,
      options.allowHttp === undefined
        ? "Use an https:// URL."
        : "Use an https:// URL, or pin the file with its sha256 so its content is checked whatever the transport.",
    );
  return url;
}

export function catalogHttp(pipeline: HttpPipeline): CatalogHttp {
  return {
    async getText(raw, what, maxBytes, accept) {
      let url = checkUrl(raw, what);
      for (let hop = 0; ; hop++) {
        const res = await pipeline.send({
          method: "GET",
          url: url.href,
          headers: { accept: accept ?? "*/*" },
          maxResponseBytes: maxBytes,
        });
        if (res.status >= 200 && res.status < 300) return res.bodyText;
        if (res.status === 404 || res.status === 410) return undefined;
        if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location !== undefined) {
          if (hop >= MAX_REDIRECTS)
            throw new PublisherError(
              "TooManyRedirects",
              `The ${what} ${redactUrl(url.href)} redirects more than ${MAX_REDIRECTS} times.`,
              { hint: "Check the URL; a redirect loop is a server problem." },
            );
          url = checkUrl(new URL(res.headers.location, url).href, `${what} (redirected from ${url.host})`);
          continue;
        }
        throw new PublisherError("CatalogHttpError", `GET ${redactUrl(url.href)} answered HTTP ${res.status}.`, {
          hint: "Check the source URL, or try again later if the server is failing.",
        });
      }
    },
  };
}
