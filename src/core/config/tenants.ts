/**
 * The tenants file (docs/tenants.md): the customer tenants one run serves (MSP mode). Each tenant names how to
 * reach it — a profile of the configuration file (cloud, client id, credential: one multi-tenant app registration
 * consented in every tenant is one profile shared by all, each tenant giving its own tenant id) or its own
 * registration — its tags (`ring: pilot`) and its overrides of the subscriptions: group names (the catalog's logical
 * group → the tenant's group), ESP profile names, scope tags, products excluded or pinned.
 */
import { z } from "zod";

/** Tenants in one file (limits.md). */
export const MAX_TENANTS = 1000;
/** A tenants file is a few hundred bytes per tenant; 4 MiB bounds the YAML parser (limits.md). */
export const TENANTS_MAX_BYTES = 4 * 1024 * 1024;
export const DEFAULT_TENANTS_FILE = "tenants.yaml";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
/** Our name for a tenant: what `--tenants` and the summaries use. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const VERSION = /^[^\\/:*?"<>|\u0000-\u001f]{1,64}$/u;

const text = (what: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? `${what} is required.` : `${what} must be text.`) })
    .trim()
    .min(1, `${what} must not be empty.`);

const nameMap = (what: string) =>
  z.record(text(`A ${what} name`), text(`The tenant's ${what} name`), {
    error: `must map the catalog's ${what} names to this tenant's (name: tenant's name).`,
  });

export const tenantSchema = z
  .strictObject({
    name: z
      .string({ error: (i) => (i.input === undefined ? "name is required." : "name must be text.") })
      .regex(NAME, "name is letters, digits, . _ - (at most 64, starting with a letter or digit), e.g. contoso."),
    displayName: text("displayName").optional(),
    profile: text("profile")
      .optional()
      .describe("A profile of the configuration file: cloud, client id and credential (shared by many tenants)"),
    tenantId: z
      .string({ error: "tenantId must be text: a GUID or a verified domain." })
      .refine((s) => GUID.test(s) || DOMAIN.test(s), "tenantId is the tenant's GUID or a verified domain.")
      .optional()
      .describe("The tenant's id (or verified domain); with a shared profile, each tenant gives its own"),
    cloud: z
      .enum(["global", "usgov", "usgov-dod", "china", "local"], {
        error: "cloud must be global, usgov, usgov-dod, china or local.",
      })
      .optional(),
    clientId: z
      .string({ error: "clientId must be text." })
      .regex(GUID, "clientId is the application (client) ID, a GUID.")
      .optional()
      .describe("A registration of this tenant's own (instead of the profile's)"),
    tags: z
      .record(
        z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "tag names are letters, digits, . _ -"),
        z.union([z.string().min(1), z.number(), z.boolean()]).transform(String),
        { error: "tags must be a mapping (ring: pilot)." },
      )
      .default({})
      .describe("Select tenants with --tenants ring=pilot"),
    groups: nameMap("group").optional().describe("The catalog's logical group names → this tenant's group names"),
    enrollmentStatusPages: nameMap("ESP profile")
      .optional()
      .describe("The subscriptions' ESP profile names → this tenant's"),
    scopeTags: z
      .array(text("A scope tag"))
      .optional()
      .describe("Scope tags every app gets in this tenant (instead of the subscriptions')"),
    exclude: z.array(text("A product id")).optional().describe("Catalog ids this tenant does not get"),
    pin: z
      .record(
        text("A product id"),
        z
          .string({
            error: (i) =>
              `a pinned version must be quoted text${typeof i.input === "number" ? ` (write "${i.input}")` : ""}.`,
          })
          .regex(VERSION, 'a pinned version is a version the source offers, e.g. "8.6.2".'),
      )
      .optional()
      .describe("Catalog id → the version this tenant keeps (instead of the newest)"),
  })
  .superRefine((t, ctx) => {
    if (t.profile === undefined && t.tenantId === undefined && t.cloud !== "local")
      ctx.addIssue({
        code: "custom",
        path: ["tenantId"],
        message: "A tenant needs tenantId (with the profile's credential), or a profile that names its tenant.",
      });
  });

export const tenantsFileSchema = z.strictObject(
  {
    defaults: z
      .strictObject({
        profile: text("defaults.profile").optional(),
        cloud: z.enum(["global", "usgov", "usgov-dod", "china", "local"]).optional(),
      })
      .optional()
      .describe("What every tenant uses unless it says otherwise"),
    tenants: z
      .array(tenantSchema, { error: "tenants must be a list of tenants." })
      .min(1, "tenants must list at least one tenant.")
      .max(MAX_TENANTS, `At most ${MAX_TENANTS} tenants in one file.`),
  },
  {
    error: (i) => (i.code === "unrecognized_keys" ? undefined : "A tenants file is a mapping with a `tenants` list."),
  },
);

export type TenantEntry = z.output<typeof tenantSchema>;
export type TenantsFile = z.output<typeof tenantsFileSchema>;

/** The profile, cloud and tenant a tenant entry resolves to, with the file's defaults applied. */
export function tenantConnection(
  file: TenantsFile,
  t: TenantEntry,
): { profile?: string; cloud?: string; tenant?: string; clientId?: string } {
  const profile = t.profile ?? file.defaults?.profile;
  const cloud = t.cloud ?? file.defaults?.cloud;
  return {
    ...(profile === undefined ? {} : { profile }),
    ...(cloud === undefined ? {} : { cloud }),
    ...(t.tenantId === undefined ? {} : { tenant: t.tenantId }),
    ...(t.clientId === undefined ? {} : { clientId: t.clientId }),
  };
}

/**
 * The tenants `--tenants` names: `all`, a tenant's name (case-insensitive), or a tag `key=value` (also `key:value`).
 * Several values add up; each tenant once, in file order. Undefined when a value names nothing (`unknown`).
 */
export function selectTenants(
  file: TenantsFile,
  specs: readonly string[],
): { tenants: TenantEntry[]; unknown: string[] } {
  const picked = new Set<TenantEntry>();
  const unknown: string[] = [];
  for (const raw of specs
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (raw.toLowerCase() === "all") {
      for (const t of file.tenants) picked.add(t);
      continue;
    }
    const tag = /^([^=:]+)[=:](.+)$/.exec(raw);
    const matches = file.tenants.filter((t) =>
      tag === null
        ? t.name.toLowerCase() === raw.toLowerCase()
        : (t.tags[tag[1]!.trim()] ?? "").toLowerCase() === tag[2]!.trim().toLowerCase(),
    );
    if (matches.length === 0) unknown.push(raw);
    for (const t of matches) picked.add(t);
  }
  return { tenants: file.tenants.filter((t) => picked.has(t)), unknown };
}
