/**
 * Catalog sources in the configuration file (the same file as tenant profiles, key `catalog`; docs/catalog.md
 * "Configuring sources"). A source is a winget repository (an HTTPS base URL with its package index, or a folder in
 * the same layout) or a folder of our own catalog entries. Without configuration, `winget` names the community
 * repository.
 */
import { z } from "zod";

const name = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "source names use letters, digits, . _ - (at most 64)");

const wingetSourceSchema = z
  .strictObject({
    type: z.literal("winget"),
    /** HTTPS base URL: the folder holding manifests/ */
    url: z.string().min(1).optional(),
    /** the package index, when it is not `<url>/index.v2.json` */
    indexUrl: z.string().min(1).optional(),
    /** a folder in the winget-pkgs layout (relative to the configuration file) */
    path: z.string().min(1).optional(),
  })
  .refine((s) => (s.url === undefined) !== (s.path === undefined), "a winget source has either url or path");

const entriesSourceSchema = z.strictObject({
  type: z.literal("entries"),
  /** folder of catalog entries (*.yaml), relative to the configuration file */
  path: z.string().min(1),
});

export const catalogSourceConfigSchema = z.discriminatedUnion("type", [wingetSourceSchema, entriesSourceSchema]);
export type CatalogSourceConfig = z.infer<typeof catalogSourceConfigSchema>;

export const catalogConfigSchema = z.strictObject({
  /** the source `--source` defaults to; default `winget` */
  defaultSource: name.optional(),
  sources: z.record(name, catalogSourceConfigSchema).default({}),
});
export type CatalogConfig = z.infer<typeof catalogConfigSchema>;

/** The community repository (microsoft/winget-pkgs) and the community index WinTuner and IntuneGet use. */
export const DEFAULT_CATALOG_SOURCES: Readonly<Record<string, CatalogSourceConfig>> = {
  winget: {
    type: "winget",
    url: "https://raw.githubusercontent.com/microsoft/winget-pkgs/master/",
    indexUrl: "https://raw.githubusercontent.com/svrooij/winget-pkgs-index/main/index.v2.json",
  },
};
export const DEFAULT_CATALOG_SOURCE = "winget";
