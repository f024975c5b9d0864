/**
 * The seed: what the local tenant contains at start (docs/emulator.md, "Seed"). YAML or JSON; strict
 * (unknown keys are errors). `defaultSeed()` gives one tenant and one app registration with all six permissions.
 */
import { randomBytes } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { isPublisherError, PublisherError } from "../src/core/errors.js";
import { readBoundedText } from "../src/platform/fs.js";
import { BUILT_IN_CATEGORIES, categoryGuid } from "./graph/model/categories.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = z.string().regex(GUID, "must be a GUID");
const dateTime = z.iso.datetime({ offset: true });

/** The six Graph application permissions the publisher needs (docs/reference/entra-auth.md §4.1). */
export const PUBLISHER_PERMISSIONS = [
  "DeviceManagementApps.ReadWrite.All",
  "DeviceManagementConfiguration.Read.All",
  "DeviceManagementManagedDevices.Read.All",
  "DeviceManagementRBAC.Read.All",
  "DeviceManagementServiceConfig.ReadWrite.All",
  "GroupMember.Read.All",
] as const;

const secretSchema = z.strictObject({
  value: z.string().min(1),
  /** ISO date-time; absent = never expires */
  expiresOn: dateTime.optional(),
});

const certificateSchema = z
  .strictObject({
    /** PEM of the public certificate (preferred: enables signature checks) */
    pem: z.string().optional(),
    /** hex SHA-1 thumbprint, when only the thumbprint is known (signatures then cannot be verified: 700027) */
    thumbprint: z
      .string()
      .regex(/^[0-9a-fA-F]{40}$/)
      .optional(),
    notBefore: dateTime.optional(),
    notAfter: dateTime.optional(),
  })
  .refine((c) => c.pem !== undefined || c.thumbprint !== undefined, "A certificate needs `pem` or `thumbprint`.");

/** An RSA public key as a JWK (`kty: "RSA"`, `n`, `e`; `kid` picks it by the assertion's header). */
const rsaJwkSchema = z.looseObject({
  kty: z.literal("RSA"),
  n: z.string().min(1),
  e: z.string().min(1),
  kid: z.string().optional(),
});

/**
 * A federated identity credential (workload identity federation): tokens from `issuer` about `subject` for one of
 * `audiences` sign the app in without a secret. Real Entra ID fetches the issuer's keys from its OIDC discovery
 * document; the local tenant has no Internet, so the keys are declared here (`jwks` or `publicKeyPem`).
 */
const federatedCredentialSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    /** exact, case-sensitive match with the assertion's `iss` */
    issuer: z.string().min(1),
    /** exact, case-sensitive match with `sub` (e.g. `repo:contoso/apps:ref:refs/heads/main`) */
    subject: z.string().min(1),
    /** the assertion's `aud` must be one of these */
    audiences: z.array(z.string().min(1)).min(1).default(["api://AzureADTokenExchange"]),
    /** the issuer's signing keys, as its `jwks_uri` would serve them */
    jwks: z.strictObject({ keys: z.array(rsaJwkSchema).min(1) }).optional(),
    /** or one PEM public key (SPKI) or certificate */
    publicKeyPem: z.string().min(1).optional(),
  })
  .refine(
    (f) => f.jwks !== undefined || f.publicKeyPem !== undefined,
    "A federated credential needs `jwks` or `publicKeyPem`.",
  );

const appRegistrationSchema = z.strictObject({
  clientId: guid,
  displayName: z.string().min(1),
  /** the tenant holding its service principal; defaults to the first tenant */
  tenantId: guid.optional(),
  /** service principal `accountEnabled`; false gives AADSTS7000112 */
  enabled: z.boolean().default(true),
  secrets: z.array(secretSchema).default([]),
  certificates: z.array(certificateSchema).default([]),
  /** federated identity credentials: external OIDC tokens accepted as client assertions */
  federatedCredentials: z.array(federatedCredentialSchema).default([]),
  /** Graph application permissions granted with admin consent; they become the token's `roles` */
  roles: z.array(z.string().min(1)).default([]),
});

const groupSchema = z.looseObject({ id: guid, displayName: z.string().min(1) });
/**
 * `deviceAndAppManagementAssignmentFilter.platform` (Graph beta devicePlatformType literals, case-sensitive). A
 * win32LobApp assignment accepts only `windows10AndLater` filters (docs/emulator.md, assignments).
 */
const FILTER_PLATFORMS = [
  "android",
  "androidForWork",
  "iOS",
  "macOS",
  "windowsPhone81",
  "windows81AndLater",
  "windows10AndLater",
  "androidWorkProfile",
  "unknown",
  "androidAOSP",
  "androidMobileApplicationManagement",
  "iOSMobileApplicationManagement",
  "windowsMobileApplicationManagement",
] as const;
const assignmentFilterSchema = z.looseObject({
  id: guid,
  displayName: z.string().min(1),
  platform: z.enum(FILTER_PLATFORMS).default("windows10AndLater"),
  rule: z.string().default(""),
});
const roleScopeTagSchema = z.looseObject({
  id: z.string().min(1),
  displayName: z.string().min(1),
  isBuiltIn: z.boolean().default(false),
});
const espProfileSchema = z.looseObject({
  id: z.string().min(1),
  displayName: z.string().min(1),
  priority: z.number().int().min(0).default(1),
  selectedMobileAppIds: z.array(z.string()).default([]),
});
/** an app category besides Intune's built-in ones; without `id` it gets a stable GUID from its name */
const mobileAppCategorySchema = z.strictObject({ id: guid.optional(), displayName: z.string().min(1) });
const managedDeviceSchema = z.looseObject({ id: guid, deviceName: z.string().min(1) });
const detectedAppSchema = z.looseObject({
  id: z.string().min(1),
  displayName: z.string().min(1),
  version: z.string().default(""),
  /** ids of managed devices that have it */
  deviceIds: z.array(guid).default([]),
});
const detectedAppsGeneratorSchema = z.strictObject({
  /** number of generated managed devices */
  devices: z.number().int().min(0).max(10_000_000),
  /** detected apps per device; total rows = devices × appsPerDevice */
  appsPerDevice: z.number().int().min(0).max(1000),
  /** PRNG seed: the same numbers give the same inventory */
  seed: z.number().int().default(1),
});

/** A fault: `count` calls matching `method` + `path` (+ `query`), regular expressions on the URL, get `status`. */
export const faultSchema = z
  .strictObject({
    method: z.string().default("*"),
    path: z.string().min(1),
    /** a regular expression on the query string (with its `?`, e.g. "comp=blocklist"); absent: any */
    query: z.string().min(1).optional(),
    status: z.number().int().min(400).max(599).optional(),
    /** 429/503: seconds for the Retry-After header; absent = no header */
    retryAfter: z.number().int().min(0).optional(),
    /** drop the connection instead of answering */
    dropConnection: z.boolean().default(false),
    /** how many matching calls it affects */
    count: z.number().int().min(1).default(1),
    /**
     * latency: the answer is held back this many ms. Alone (no `status`, no `dropConnection`) the call is served
     * normally, only later, and the fault does not hide other faults matching the same call.
     */
    delayMs: z.number().int().min(0).max(600_000).optional(),
    /**
     * the service acts on the call (creates, commits, …), then the connection is dropped before the answer: a
     * client timeout after the server did the work, the case that leaves duplicates and orphans behind
     */
    dropResponse: z.boolean().default(false),
    /** each matching call is affected with this probability (a call spared does not count against `count`) */
    probability: z.number().gt(0).max(1).default(1),
    /** seed of the fault's own random sequence (with `probability`); absent: Math.random */
    seed: z.number().int().optional(),
    /**
     * the error's text (Entra `error_description`, Graph `error.message`, storage `<Message>`) quotes the request:
     * method, path and query, headers and a text body, as a careless authority, proxy or custom cloud may
     */
    echoRequest: z.boolean().default(false),
    /**
     * only calls of this tenant (GUID): Entra ID calls naming it in their path, Graph calls whose bearer token is
     * its (`tid`); never blob storage calls (they carry no tenant)
     */
    tenant: guid.optional(),
  })
  .refine((f) => !f.dropResponse || (f.status === undefined && !f.dropConnection && f.delayMs === undefined), {
    message: "dropResponse cannot be combined with status, dropConnection or delayMs.",
    path: ["dropResponse"],
  });

/**
 * A tenant. Its own `groups`, `assignmentFilters`, `roleScopeTags`, `espProfiles`, `managedDevices` and
 * `detectedApps` (a seed serving many tenants that differ): the first tenant gets them besides the seed's top-level
 * ones; another tenant that declares any of them is seeded with its own (scope tags default to the built-in
 * Default), one that declares none stays empty.
 */
const tenantSchema = z.strictObject({
  id: guid,
  displayName: z.string().default("Contoso"),
  domains: z.array(z.string().min(1)).min(1),
  groups: z.array(groupSchema).optional(),
  assignmentFilters: z.array(assignmentFilterSchema).optional(),
  roleScopeTags: z.array(roleScopeTagSchema).optional(),
  espProfiles: z.array(espProfileSchema).optional(),
  /** the tenant's own managed devices and detected apps (its inventory); the first tenant adds them to the seed's */
  managedDevices: z.array(managedDeviceSchema).optional(),
  detectedApps: z.array(detectedAppSchema).optional(),
});

export const seedSchema = z
  .strictObject({
    tenants: z.array(tenantSchema).min(1),
    appRegistrations: z.array(appRegistrationSchema).default([]),
    groups: z.array(groupSchema).default([]),
    assignmentFilters: z.array(assignmentFilterSchema).default([]),
    roleScopeTags: z.array(roleScopeTagSchema).default([{ id: "0", displayName: "Default", isBuiltIn: true }]),
    espProfiles: z.array(espProfileSchema).default([]),
    mobileAppCategories: z.array(mobileAppCategorySchema).default([]),
    managedDevices: z.array(managedDeviceSchema).default([]),
    detectedApps: z.union([z.array(detectedAppSchema), detectedAppsGeneratorSchema]).default([]),
    faults: z.array(faultSchema).default([]),
    /** the upload URLs' SAS: `read: false` grants create and write only, so Get Block List answers 403 */
    uploadSas: z.strictObject({ read: z.boolean().default(true) }).default({ read: true }),
  })
  .superRefine((s, ctx) => {
    const tenantIds = new Set(s.tenants.map((t) => t.id.toLowerCase()));
    s.appRegistrations.forEach((a, i) => {
      if (a.tenantId !== undefined && !tenantIds.has(a.tenantId.toLowerCase())) {
        ctx.addIssue({
          code: "custom",
          path: ["appRegistrations", i, "tenantId"],
          message: "The app registration names a tenant the seed does not declare.",
        });
      }
    });
    // Category names are how definitions name categories: unique (case-insensitive), built-in ones included.
    const names = new Set(BUILT_IN_CATEGORIES.map((c) => c.displayName.toLowerCase()));
    const ids = new Set(BUILT_IN_CATEGORIES.map((c) => c.id));
    s.mobileAppCategories.forEach((c, i) => {
      const name = c.displayName.toLowerCase();
      const id = (c.id ?? categoryGuid(c.displayName)).toLowerCase();
      if (names.has(name) || ids.has(id))
        ctx.addIssue({
          code: "custom",
          path: ["mobileAppCategories", i],
          message: `The category "${c.displayName}" is already defined (built-in or earlier in the seed, by name or id).`,
        });
      names.add(name);
      ids.add(id);
    });
  });

export type Seed = z.output<typeof seedSchema>;
export type SeedInput = z.input<typeof seedSchema>;
export type AppRegistration = Seed["appRegistrations"][number];
export type Fault = z.output<typeof faultSchema>;
export type FaultInput = z.input<typeof faultSchema>;

export const DEFAULT_TENANT_ID = "7f3c2a1e-5b4d-4c6e-9f8a-0b1c2d3e4f50";
export const DEFAULT_CLIENT_ID = "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098";

/** One tenant (`contoso.onmicrosoft.com`) and one app registration with a fresh secret and all six permissions. */
export function defaultSeed(): Seed {
  return seedSchema.parse({
    tenants: [{ id: DEFAULT_TENANT_ID, displayName: "Contoso", domains: ["contoso.onmicrosoft.com"] }],
    appRegistrations: [
      {
        clientId: DEFAULT_CLIENT_ID,
        displayName: "intune-publisher",
        // Entra secrets are 40 characters with `~`, `.`, `_`, `-`; base64url of 30 bytes is 40.
        secrets: [{ value: randomBytes(30).toString("base64url") }],
        roles: [...PUBLISHER_PERMISSIONS],
      },
    ],
    // What the examples' targeting names (examples/apps/, examples/apps/targeting/): the same ids as examples/seed.yaml.
    groups: [
      { id: "5a8e1f3c-1d2b-4e6f-8a9b-0c1d2e3f4a5b", displayName: "Intune - Pilot devices" },
      { id: "6b9f2a4d-2e3c-4f70-9bac-1d2e3f4a5b6c", displayName: "Intune - All Windows devices" },
    ],
    assignmentFilters: [
      {
        id: "8d1b4c6f-4a5e-4b92-8dce-3f4a5b6c7d8e",
        displayName: "Windows 11 only",
        platform: "windows10AndLater",
        rule: '(device.osVersion -startsWith "10.0.22")',
      },
    ],
    espProfiles: [
      {
        id: `${DEFAULT_TENANT_ID}_DefaultWindows10EnrollmentCompletionPageConfiguration`,
        displayName: "All users and all devices",
        priority: 0,
      },
      { id: "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", displayName: "Kiosk ESP", priority: 1 },
    ],
  });
}

/** Validates a seed object; errors name the path of each problem. */
export function parseSeed(input: unknown, source = "seed"): Seed {
  const r = seedSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new PublisherError("InvalidSeed", `${source} is not a valid seed:\n${lines.join("\n")}`, {
      hint: "See docs/emulator.md#seed for the format.",
    });
  }
  return r.data;
}

/** Seeds are hand-written YAML (a large detected-app inventory is a generator, not a list). */
export const SEED_MAX_BYTES = 16 * 1024 * 1024;

/** Reads a YAML or JSON seed file (JSON is YAML): a regular file of at most SEED_MAX_BYTES. */
export async function loadSeedFile(path: string): Promise<Seed> {
  let text: string;
  try {
    text = await readBoundedText({ path, what: "seed file", maxBytes: SEED_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound")
      throw new PublisherError("SeedNotFound", `Cannot read the seed file ${path}.`, {
        cause: e,
        hint: "Check the path given with --seed.",
      });
    throw e;
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new PublisherError("InvalidSeed", `${path} is not valid YAML or JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return parseSeed(data, path);
}
