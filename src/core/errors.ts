/**
 * Typed errors with stable codes. Only the CLI entry maps an error's `kind` to an exit code
 * (see docs/exit-codes in docs/packaging.md and src/cli/exit-codes.ts).
 */

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
  hint?: string;
  cause?: unknown;
}

export class PublisherError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: PublisherErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PublisherError";
    this.kind = kind;
    this.code = code;
    this.hint = options.hint;
  }
}

export function isPublisherError(e: unknown): e is PublisherError {
  return e instanceof PublisherError;
}

/** Marks a broken invariant: a bug in this tool, never the user's fault. */
export class InternalError extends PublisherError {
  constructor(message: string, cause?: unknown) {
    super("internal", "Internal", message, { cause });
    this.name = "InternalError";
  }
}
