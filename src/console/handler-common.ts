/**
 * What every group of console handlers shares (handlers.ts, catalog-handlers.ts): the context the server gives them
 * and the request check. A module of its own, so the handler modules need not import each other.
 */
import type { z } from "zod";
import type { SecretRegistry } from "../clients/http/redact.js";
import type { HttpLogger } from "../clients/http/types.js";
import { PublisherError } from "../core/errors.js";
import type { LocalTenantLauncher } from "../publish/connect/local-tenant.js";

export interface HandlerContext {
  env: NodeJS.ProcessEnv;
  /** relative paths of the form are taken from here */
  cwd: string;
  /** --config */
  configFile?: string | undefined;
  /** the emulator state folder (a running local tenant) */
  stateDir: string;
  launcher: LocalTenantLauncher;
  /** learns every secret typed into a form or met on the wire; errors are scrubbed with it */
  secrets: SecretRegistry;
  logger?: HttpLogger | undefined;
  /**
   * The console's own run log file (its path); null when it runs with `--no-log-file`; undefined when not known.
   * The history records it for the runs started from the console (Show log reads it).
   */
  logFile?: string | null | undefined;
  /** told of unexpected errors (the terminal shows them; the page gets a generic message) */
  onError?: (e: unknown) => void;
  onNote?: (line: string) => void;
}

export type HandlerResult = { body: unknown } | "streamed" | undefined;

export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  const field = i?.path.join(".") || "request";
  throw new PublisherError("ConsoleRequestInvalid", `${field}: ${i?.message ?? "invalid"}.`, {
    hint: "Correct the field and send again.",
  });
}
