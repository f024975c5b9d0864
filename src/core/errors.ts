/**
 * Typed errors with stable codes. Every code is an entry of the error catalogue (src/core/error-codes.ts), which
 * gives its kind; only the CLI entry maps a kind to an exit code (src/cli/exit-codes.ts, docs/cli.md#exit-codes).
 */
import { ERROR_CODES } from "./error-codes.js";
import type { ErrorCode } from "./error-codes.js";

export type { ErrorCode } from "./error-codes.js";

/** What the caller can do about an error; each kind has one documented exit code. */
export type ErrorKind =
  | "usage" // a flag or argument is missing or malformed
  | "input" // a file or folder given to us is unusable (missing, corrupt, wrong type)
  | "integrity" // content failed a cryptographic check (MAC, digest): it was altered or damaged
  | "config" // configuration (profile, cloud, credential reference) is wrong
  | "incompleteConfig" // something names a tenant, but not enough of it (a setting missing or set but empty)
  | "auth" // Entra ID refused to issue a token
  | "permission" // the token lacks a required Graph permission
  | "network" // TLS or connection failure
  | "graph" // Graph or storage answered with an error
  | "timeout" // a deadline passed
  | "cancelled" // the user or a signal aborted the operation
  | "internal"; // a bug in this tool

export interface PublisherErrorOptions {
  /** One sentence telling the user what to do. */
  hint?: string | undefined;
  cause?: unknown;
  /** The code the service answered with (Graph `error.code`, `AADSTS…`, storage `x-ms-error-code`). */
  serviceCode?: string | undefined;
}

export class PublisherError extends Error {
  /** our code: an entry of the catalogue */
  readonly code: ErrorCode;
  /** the catalogue's kind for `code` */
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  /** the service's own code, when a service's answer caused the error */
  readonly serviceCode: string | undefined;

  constructor(code: ErrorCode, message: string, options: PublisherErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PublisherError";
    this.code = code;
    this.kind = ERROR_CODES[code].kind;
    this.hint = options.hint;
    this.serviceCode = options.serviceCode;
  }
}

export function isPublisherError(e: unknown): e is PublisherError {
  return e instanceof PublisherError;
}

/**
 * The code `--output json` prints as `code`: the service's when it answered with one (as before the catalogue),
 * otherwise ours. `errorCode` beside it is always ours.
 */
export function reportedCode(e: PublisherError): string {
  return e.serviceCode ?? e.code;
}

/** Marks a broken invariant: a bug in this tool, never the user's fault. */
export class InternalError extends PublisherError {
  constructor(message: string, cause?: unknown) {
    super("Internal", message, { cause });
    this.name = "InternalError";
  }
}
