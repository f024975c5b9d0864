/**
 * The vendor host's seed: the products it publishes (generated winget manifests), folders of real winget manifests
 * it mirrors (installer URLs and hashes rewritten to its own files), and faults. YAML or JSON, strict (unknown keys
 * are errors). Paths in it are relative to the seed file's folder (or `baseDir`). docs/emulator.md "Vendor host".
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { isPublisherError, PublisherError } from "../../src/core/errors.js";
import { readBoundedText } from "../../src/platform/fs.js";

/** winget's PackageIdentifier pattern (manifest schema 1.0–1.12): 2 to 8 dot-separated parts of 1–32 characters. */
// eslint-disable-next-line no-control-regex
export const PACKAGE_ID = /^[^.\s\\/:*?"<>|\x01-\x1f]{1,32}(\.[^.\s\\/:*?"<>|\x01-\x1f]{1,32}){1,7}$/;
/** winget's PackageVersion pattern, minus the two names that would climb out of a folder. */
// eslint-disable-next-line no-control-regex
const PACKAGE_VERSION = /^[^\\/:*?"<>|\x01-\x1f]+$/;

export const ARCHITECTURES = ["x86", "x64", "arm", "arm64", "neutral"] as const;
export const INSTALLER_TYPES = [
  "msi",
  "wix",
  "burn",
  "inno",
  "nullsoft",
  "exe",
  "zip",
  "msix",
  "appx",
  "msstore",
  "portable",
  "pwa",
  "font",
] as const;

/** Generated content may be large (benchmarks serve 1 GiB); it is produced as it is sent, never held. */
export const MAX_GENERATED_BYTES = 64 * 1024 ** 3;

const packageId = z.string().max(128).regex(PACKAGE_ID, "must be a winget PackageIdentifier such as Contoso.Notes");
const packageVersion = z
  .string()
  .max(128)
  .regex(PACKAGE_VERSION, 'must be a winget PackageVersion (no / \\ : * ? " < > | or control characters)')
  .refine((v) => v !== "." && v !== ".." && v.trim() === v, "must not be . or .. or start or end with a space");

/** A path inside a served zip: `/`-separated plain names (a hostile zip is a test's own bytes, given as base64). */
const ZIP_ENTRY_NAME = /^[A-Za-z0-9_-][A-Za-z0-9 ._-]*(\/[A-Za-z0-9_-][A-Za-z0-9 ._-]*)*$/;
const ZIP_ENTRY_MESSAGE = "must be a relative path of plain names (letters, digits, space . _ -) separated by /";

/** An installer's bytes: a fixture file, text, base64, or deterministic pseudo-random bytes produced on the fly. */
export const contentSchema = z.union([
  z.strictObject({ path: z.string().min(1) }),
  z.strictObject({ text: z.string() }),
  z.strictObject({ base64: z.string() }),
  /** a zip (stored, built when the host starts) of these files, each a fixture file or text */
  z.strictObject({
    zip: z
      .array(
        z.union([
          z.strictObject({ name: z.string().regex(ZIP_ENTRY_NAME, ZIP_ENTRY_MESSAGE), path: z.string().min(1) }),
          z.strictObject({ name: z.string().regex(ZIP_ENTRY_NAME, ZIP_ENTRY_MESSAGE), text: z.string() }),
        ]),
      )
      .min(1)
      .max(1000),
  }),
  z.strictObject({
    generate: z.strictObject({
      bytes: z.number().int().min(0).max(MAX_GENERATED_BYTES),
      /** same seed and size, same bytes */
      seed: z.string().default(""),
    }),
  }),
]);
export type ContentInput = z.input<typeof contentSchema>;
export type Content = z.output<typeof contentSchema>;

/** Keys the host writes itself into every installer entry. */
const HOST_KEYS = ["InstallerUrl", "InstallerSha256", "Architecture", "InstallerType", "Scope"];

const fieldsSchema = z.record(z.string(), z.unknown()).default({});

const installerSchema = z
  .strictObject({
    architecture: z.enum(ARCHITECTURES),
    type: z.enum(INSTALLER_TYPES),
    scope: z.enum(["user", "machine"]).optional(),
    content: contentSchema,
    /** the served file's name; default `<id>-<version>-<architecture>.<extension of the type>` */
    fileName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be a plain file name (letters, digits, . _ -)")
      .optional(),
    /** more keys of the manifest's installer entry (InstallerSwitches, ProductCode, AppsAndFeaturesEntries, …) */
    fields: fieldsSchema,
  })
  .refine((i) => !HOST_KEYS.some((k) => k in i.fields), {
    message: `fields must not set ${HOST_KEYS.join(", ")}: the host writes them`,
    path: ["fields"],
  });

const versionSchema = z.strictObject({
  version: packageVersion,
  /** YYYY-MM-DD */
  releaseDate: z.iso.date().optional(),
  manifestVersion: z
    .string()
    .regex(/^1\.\d{1,2}\.0$/)
    .default("1.6.0"),
  /** root-level keys of the installer manifest, inherited by every installer (Scope, InstallerSwitches, …) */
  installerFields: fieldsSchema,
  /** more keys of the default locale manifest (Description, PrivacyUrl, ReleaseNotes, …) */
  localeFields: fieldsSchema,
  installers: z.array(installerSchema).min(1).max(64),
});

export const productSchema = z.strictObject({
  id: packageId,
  name: z.string().min(1).max(256),
  publisher: z.string().min(1).max(256),
  license: z.string().min(1).default("Proprietary"),
  /** default: the name */
  shortDescription: z.string().min(1).max(256).optional(),
  tags: z.array(z.string().min(1).max(40)).max(16).default([]),
  /** the index's LastUpdate; default: when the host published it */
  lastUpdate: z.iso.datetime({ offset: true }).optional(),
  versions: z.array(versionSchema).min(1).max(100),
});
export type ProductInput = z.input<typeof productSchema>;
export type Product = z.output<typeof productSchema>;

/** A folder laid out like winget-pkgs (`manifests/<letter>/<Publisher>/<Package>/<version>/*.yaml`), served as is. */
const mirrorSchema = z.strictObject({
  folder: z.string().min(1),
  /** PackageIdentifiers to serve; default all */
  packages: z.array(packageId).optional(),
  /** the bytes served for each installer, by its InstallerType (`default` for the others) */
  content: z
    .partialRecord(z.enum([...INSTALLER_TYPES, "default"]), contentSchema)
    .refine((c) => Object.keys(c).length > 0, "give the bytes for at least one installer type, or `default`"),
});
export type Mirror = z.output<typeof mirrorSchema>;

const common = {
  /** an installer of this product (the host's `/dl/` URLs) */
  product: packageId.optional(),
  /** with `product`: only this version */
  version: packageVersion.optional(),
  /** a regular expression on the URL path, any route (index, manifests, installers, feeds) */
  path: z.string().min(1).optional(),
  /** how many requests it affects; absent: every one until cleared or reset */
  count: z.number().int().min(1).optional(),
};

export const vendorFaultSchema = z
  .discriminatedUnion("kind", [
    /** the body differs from the file (first byte changed), validators unchanged: a hash mismatch */
    z.strictObject({ kind: z.literal("wrongBytes"), ...common }),
    /** the full Content-Length is announced, then the connection is closed after `afterBytes` (default half) */
    z.strictObject({ kind: z.literal("truncate"), afterBytes: z.number().int().min(0).optional(), ...common }),
    z.strictObject({ kind: z.literal("notFound"), ...common }),
    /** any error status, with Retry-After seconds when given */
    z.strictObject({
      kind: z.literal("status"),
      status: z.number().int().min(400).max(599),
      retryAfter: z.number().int().min(0).optional(),
      ...common,
    }),
    /** 302 to the same path with ?redirect-loop=a, which redirects to …=b, which redirects to …=a */
    z.strictObject({ kind: z.literal("redirectLoop"), ...common }),
    /** `hops` redirects before the file; `insecure`: to the plain-HTTP listener (http://) */
    z.strictObject({
      kind: z.literal("redirect"),
      hops: z.number().int().min(1).max(50).default(1),
      insecure: z.boolean().default(false),
      ...common,
    }),
    /** the body trickles at this rate */
    z.strictObject({ kind: z.literal("slow"), bytesPerSecond: z.number().int().min(1), ...common }),
    /** Range and If-Range ignored, no Accept-Ranges: every answer is 200 with the whole file */
    z.strictObject({ kind: z.literal("noRange"), ...common }),
    /** no Content-Length: the body is sent chunked, its size unknown until it ends */
    z.strictObject({ kind: z.literal("noLength"), ...common }),
    /** the file changed at the same URL: other bytes (16 more), a new ETag and Last-Modified */
    z.strictObject({ kind: z.literal("changed"), ...common }),
  ])
  .refine((f) => f.version === undefined || f.product !== undefined, {
    message: "version needs product",
    path: ["version"],
  })
  .refine(
    (f) => {
      if (f.path === undefined) return true;
      try {
        new RegExp(f.path);
        return true;
      } catch {
        return false;
      }
    },
    { message: "path must be a valid regular expression", path: ["path"] },
  );
export type VendorFaultInput = z.input<typeof vendorFaultSchema>;
export type VendorFault = z.output<typeof vendorFaultSchema>;

export const vendorSeedSchema = z
  .strictObject({
    products: z.array(productSchema).default([]),
    mirrors: z.array(mirrorSchema).default([]),
    faults: z.array(vendorFaultSchema).default([]),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.products.forEach((p, i) => {
      const key = p.id.toLowerCase();
      if (seen.has(key))
        ctx.addIssue({ code: "custom", path: ["products", i, "id"], message: `${p.id} is declared twice` });
      seen.add(key);
      const versions = new Set<string>();
      p.versions.forEach((v, j) => {
        if (versions.has(v.version))
          ctx.addIssue({
            code: "custom",
            path: ["products", i, "versions", j, "version"],
            message: `${p.id} ${v.version} is declared twice`,
          });
        versions.add(v.version);
      });
    });
  });
export type VendorSeedInput = z.input<typeof vendorSeedSchema>;

export interface VendorSeed extends z.output<typeof vendorSeedSchema> {
  /** the folder relative paths are resolved against */
  baseDir: string;
}

function invalid(source: string, error: z.ZodError): PublisherError {
  const lines = error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
  return new PublisherError("InvalidVendorSeed", `${source} is not a valid vendor seed:\n${lines.join("\n")}`, {
    hint: "See docs/emulator.md#vendor-host for the format.",
  });
}

export function parseVendorSeed(input: unknown, options: { source?: string; baseDir?: string } = {}): VendorSeed {
  const r = vendorSeedSchema.safeParse(input);
  if (!r.success) throw invalid(options.source ?? "vendor seed", r.error);
  return { ...r.data, baseDir: resolve(options.baseDir ?? process.cwd()) };
}

/** A product given at run time (admin API). */
export function parseProduct(input: unknown): Product {
  const r = productSchema.safeParse(input);
  if (!r.success) throw invalid("product", r.error);
  return r.data;
}

export function parseVendorFault(input: unknown): VendorFault {
  const r = vendorFaultSchema.safeParse(input);
  if (!r.success) throw invalid("fault", r.error);
  return r.data;
}

/** Vendor seeds are short hand-written files. */
export const VENDOR_SEED_MAX_BYTES = 1024 * 1024;

export async function loadVendorSeedFile(path: string): Promise<VendorSeed> {
  let text: string;
  try {
    text = await readBoundedText({ path, what: "vendor seed file", maxBytes: VENDOR_SEED_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound")
      throw new PublisherError("VendorSeedNotFound", `Cannot read the vendor seed file ${path}.`, {
        cause: e,
        hint: "Check the path.",
      });
    throw e;
  }
  let data: unknown;
  try {
    data = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new PublisherError("InvalidVendorSeed", `${path} is not valid YAML or JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return parseVendorSeed(data, { source: path, baseDir: dirname(resolve(path)) });
}

/** A seed path resolved against the seed's folder. */
export function seedPath(seed: { baseDir: string }, written: string): string {
  return isAbsolute(written) ? written : resolve(seed.baseDir, written);
}
