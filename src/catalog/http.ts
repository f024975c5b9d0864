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

/** What a server said identifies a document's version (sent back as If-None-Match / If-Modified-Since). */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/** A conditional GET's answer: the new text and its validators, or 304 (what the caller holds is current). */
export type ConditionalText = { status: "modified"; text: string; validators: Validators } | { status: "not-modified" };

export interface CatalogHttp {
  /** The body of `url` as text, or undefined when the server answers 404 or 410. */
  getText(url: string, what: string, maxBytes: number, accept?: string): Promise<string | undefined>;
  /**
   * A conditional GET with the validators of the copy the caller holds (none: an ordinary GET); undefined on 404 or
   * 410. Optional: a CatalogHttp without it is asked with getText.
   */
  getTextIf?(
    url: string,
    what: string,
    maxBytes: number,
    held: Validators,
    accept?: string,
  ): Promise<ConditionalText | undefined>;
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
  const get = async (
    raw: string,
    what: string,
    maxBytes: number,
    held: Validators,
    accept: string | undefined,
  ): Promise<ConditionalText | undefined> => {
    let url = checkUrl(raw, what);
    const conditions: Record<string, string> = {
      ...(held.etag === undefined ? {} : { "if-none-match": held.etag }),
      ...(held.lastModified === undefined ? {} : { "if-modified-since": held.lastModified }),
    };
    for (let hop = 0; ; hop++) {
      const res = await pipeline.send({
        method: "GET",
        url: url.href,
        headers: { accept: accept ?? "*/*", ...conditions },
        maxResponseBytes: maxBytes,
      });
      if (res.status >= 200 && res.status < 300) {
        const etag = res.headers["etag"];
        const lastModified = res.headers["last-modified"];
        return {
          status: "modified",
          text: res.bodyText,
          validators: {
            ...(typeof etag === "string" ? { etag } : {}),
            ...(typeof lastModified === "string" ? { lastModified } : {}),
          },
        };
      }
      if (res.status === 304 && Object.keys(conditions).length > 0) return { status: "not-modified" };
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
  };
  return {
    async getText(raw, what, maxBytes, accept) {
      const r = await get(raw, what, maxBytes, {}, accept);
      return r?.status === "modified" ? r.text : undefined;
    },
    getTextIf: (raw, what, maxBytes, held, accept) => get(raw, what, maxBytes, held, accept),
  };
}
