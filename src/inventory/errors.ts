/**
 * Errors of the inventory. A damaged or refused report (malformed CSV, truncated zip, a job that failed) is kind
 * "graph" (exit 5): the service handed over something unusable; a job that never completes is "timeout" (exit 6).
 */
import type { CodeOfKind } from "../core/error-codes.js";
import { PublisherError } from "../core/errors.js";

export function inventoryError(
  code: CodeOfKind<"graph"> | CodeOfKind<"timeout">,
  message: string,
  hint: string,
  cause?: unknown,
): PublisherError {
  return new PublisherError(code, message, { hint, cause });
}
