/**
 * Errors of the inventory. A damaged or refused report (malformed CSV, truncated zip, a job that failed) is kind
 * "graph" (exit 5): the service handed over something unusable; a job that never completes is "timeout" (exit 6).
 */
import { PublisherError } from "../core/errors.js";
import type { ErrorKind } from "../core/errors.js";

export function inventoryError(
  code: string,
  message: string,
  hint: string,
  kind: ErrorKind = "graph",
  cause?: unknown,
): PublisherError {
  return new PublisherError(kind, code, message, { hint, cause });
}
