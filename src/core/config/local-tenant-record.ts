/**
 * credentials.json: what `emulator start` records in its state folder (mode 0600) so that later commands find the
 * running local tenant. One schema for the writer (src/cli/commands/emulator-start.ts) and the reader
 * (src/publish/connect/local-tenant.ts). The reader checks the addresses further (https, loopback, answering).
 */
import { z } from "zod";

export const LOCAL_TENANT_RECORD_FILE = "credentials.json";

/** The audience of the local tenant's tokens when a record names none. */
export const DEFAULT_TOKEN_AUDIENCE = "https://graph.microsoft.com";

const text = z.string().min(1);

export const localTenantRecordSchema = z.object({
  tenantId: text,
  clientId: text,
  /** the seed's first client secret; null when its app has none (such a record cannot sign in) */
  clientSecret: text.nullable(),
  /** https://127.0.0.1:PORT */
  authorityHost: text,
  /** https://127.0.0.1:PORT/beta */
  graphBaseUrl: text,
  /** optional: DEFAULT_TOKEN_AUDIENCE when absent or unusable */
  tokenAudience: text.optional().catch(undefined),
  /** optional: https://127.0.0.1:PORT, its vendor download host (the catalog's local source); ignored when unusable */
  vendorUrl: text.optional().catch(undefined),
});

export type LocalTenantRecord = z.infer<typeof localTenantRecordSchema>;

/** The file's text: indented JSON with a final newline. */
export function formatLocalTenantRecord(record: LocalTenantRecord): string {
  return JSON.stringify(localTenantRecordSchema.parse(record), null, 2) + "\n";
}

/** A record the reader can use: every field present, a client secret to sign in with. */
export interface UsableLocalTenantRecord extends LocalTenantRecord {
  clientSecret: string;
  tokenAudience: string;
}

export type RecordReading =
  | { ok: true; record: UsableLocalTenantRecord }
  | { ok: false; problem: "not-an-object" }
  /** `fields` in the schema's order */
  | { ok: false; problem: "missing"; fields: string[] };

/** Reads a record's text. A field that is absent, empty, not text, or (clientSecret) null counts as missing. */
export function readLocalTenantRecord(json: string): RecordReading {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, problem: "not-an-object" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { ok: false, problem: "not-an-object" };
  const parsed = localTenantRecordSchema.safeParse(value);
  const bad = new Set(parsed.success ? [] : parsed.error.issues.map((i) => String(i.path[0])));
  if ((value as Record<string, unknown>)["clientSecret"] === null) bad.add("clientSecret");
  if (!parsed.success || parsed.data.clientSecret === null)
    return {
      ok: false,
      problem: "missing",
      fields: Object.keys(localTenantRecordSchema.shape).filter((k) => bad.has(k)),
    };
  return {
    ok: true,
    record: {
      ...parsed.data,
      clientSecret: parsed.data.clientSecret,
      tokenAudience: parsed.data.tokenAudience ?? DEFAULT_TOKEN_AUDIENCE,
    },
  };
}
