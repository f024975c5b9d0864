import type { ErrorKind } from "../core/errors.js";

/** Documented exit codes (docs/cli.md). The only mapping from error kinds to process exit codes. */
export const EXIT_CODES: Readonly<Record<ErrorKind | "ok", number>> = {
  ok: 0,
  internal: 1,
  usage: 64,
  auth: 3,
  permission: 4,
  graph: 5,
  timeout: 6,
  network: 7,
  config: 8,
  input: 9,
  integrity: 10,
  incompleteConfig: 11,
  cancelled: 130,
};
