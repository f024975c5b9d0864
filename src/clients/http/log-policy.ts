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
import type { Clock, HttpLogEvent, HttpLogger, HttpPolicy } from "./types.js";

export interface LogPolicyOptions {
  logger: HttpLogger;
  allowedHeaders?: readonly string[];
  allowedQueryParameters?: readonly string[];
  allowedBodyFields?: readonly string[];
  clock?: Clock;
}

/** Sends an exchange event to `logger.event` when it has one, else as its `info`/`warning` line. */
export function emitHttpEvent(logger: HttpLogger, event: HttpLogEvent): void {
  if (logger.event) logger.event(event);
  else if (event.level === "warning") logger.warning(event.message);
  else logger.info(event.message);
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
      const url = redactUrl(request.url, options.allowedQueryParameters ?? DEFAULT_ALLOWED_QUERY_PARAMETERS);
      const target = `${request.method} ${url}`;
      const clientRequestId = request.headers["client-request-id"];
      const ids = clientRequestId === undefined ? {} : { clientRequestId };
      emitHttpEvent(logger, {
        level: "info",
        message: `--> ${target} headers=${headers(request.headers)}${body(request.body)}`,
        method: request.method,
        url,
        ...ids,
      });
      const start = clock();
      try {
        const response = await next(request);
        const durationMs = clock() - start;
        const requestId = response.headers["request-id"] ?? response.headers["x-ms-request-id"];
        const echoed = response.headers["client-request-id"] ?? clientRequestId;
        emitHttpEvent(logger, {
          level: "info",
          message: `<-- ${response.status} ${target} (${durationMs} ms) headers=${headers(response.headers)}${body(response.bodyText)}`,
          method: request.method,
          url,
          status: response.status,
          ...(requestId === undefined ? {} : { requestId }),
          ...(echoed === undefined ? {} : { clientRequestId: echoed }),
          durationMs,
        });
        return response;
      } catch (err) {
        const durationMs = clock() - start;
        const what =
          err instanceof NetworkError
            ? `${err.failure} ${err.causeCode ?? ""}`.trim()
            : err instanceof PublisherError
              ? err.kind
              : "failed";
        emitHttpEvent(logger, {
          level: "warning",
          message: `<-- ${what} ${target} (${durationMs} ms)`,
          method: request.method,
          url,
          ...ids,
          durationMs,
          failure: what,
        });
        throw err;
      }
    },
  };
}
