/**
 * Logs each attempt (it sits inside the retry policy) through allow-list redaction only: headers, query
 * parameters and JSON fields not listed print as REDACTED; non-JSON bodies print as their size.
 */
import { PublisherError } from "../../core/errors.js";
import { NetworkError } from "./errors.js";
import {
  DEFAULT_ALLOWED_BODY_FIELDS,
  DEFAULT_ALLOWED_HEADERS,
  DEFAULT_ALLOWED_QUERY_PARAMETERS,
  redactBody,
  redactHeaders,
  redactUrl,
} from "./redact.js";
import type { Clock, HttpLogger, HttpPolicy } from "./types.js";

export interface LogPolicyOptions {
  logger: HttpLogger;
  allowedHeaders?: readonly string[];
  allowedQueryParameters?: readonly string[];
  allowedBodyFields?: readonly string[];
  clock?: Clock;
}

export function logPolicy(options: LogPolicyOptions): HttpPolicy {
  const { logger } = options;
  const clock = options.clock ?? Date.now;
  const headers = (h: Record<string, string>): string =>
    JSON.stringify(redactHeaders(h, options.allowedHeaders ?? DEFAULT_ALLOWED_HEADERS));
  const body = (b: string | Uint8Array | undefined): string => {
    const shown = redactBody(b, options.allowedBodyFields ?? DEFAULT_ALLOWED_BODY_FIELDS);
    return shown === undefined ? "" : ` body=${shown}`;
  };
  return {
    name: "log",
    async send(request, next) {
      const target = `${request.method} ${redactUrl(request.url, options.allowedQueryParameters ?? DEFAULT_ALLOWED_QUERY_PARAMETERS)}`;
      logger.info(`--> ${target} headers=${headers(request.headers)}${body(request.body)}`);
      const start = clock();
      try {
        const response = await next(request);
        logger.info(
          `<-- ${response.status} ${target} (${clock() - start} ms) headers=${headers(response.headers)}${body(response.bodyText)}`,
        );
        return response;
      } catch (err) {
        const what =
          err instanceof NetworkError
            ? `${err.failure} ${err.causeCode ?? ""}`.trim()
            : err instanceof PublisherError
              ? err.kind
              : "failed";
        logger.warning(`<-- ${what} ${target} (${clock() - start} ms)`);
        throw err;
      }
    },
  };
}
