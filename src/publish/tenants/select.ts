/**
 * Which tenants a run serves (docs/tenants.md): the configuration file's `tenants:` section, else the tenants file
 * (both at once is refused), and those `--tenants all|TAG|NAME` selects. The CLI's `--tenants` options and the
 * console's tenants switcher and overview read them here.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_TENANTS_FILE, selectTenants } from "../../core/config/tenants.js";
import type { TenantEntry } from "../../core/config/tenants.js";
import { PublisherError } from "../../core/errors.js";
import { loadTenants, loadTenantsSection } from "./file.js";
import type { LoadedTenants } from "./file.js";

export interface TenantsSource {
  /** the configuration file (its `tenants:` section is read) */
  configFile: string;
  /** the tenants file named (--tenants-file), relative to `cwd`; default ./tenants.yaml */
  tenantsFile?: string | undefined;
  cwd: string;
}

/**
 * The tenants configured: the configuration file's section, else the tenants file. `optional`: undefined when
 * neither exists (the console without tenants); otherwise a missing tenants file is TenantsNotFound.
 */
export async function loadConfiguredTenants(
  s: TenantsSource,
  o: { optional?: boolean } = {},
): Promise<LoadedTenants | undefined> {
  const section = await loadTenantsSection(s.configFile);
  const tenantsFile = resolve(s.cwd, s.tenantsFile ?? DEFAULT_TENANTS_FILE);
  if (section !== undefined) {
    if (s.tenantsFile !== undefined || existsSync(tenantsFile))
      throw new PublisherError(
        "TenantsTwoSources",
        `Two lists of tenants: the tenants file ${tenantsFile}${s.tenantsFile === undefined ? " (the default)" : ""} and the tenants: section of ${s.configFile}.`,
        {
          hint: "Keep one: remove the tenants: section from the configuration file, or remove (or rename) the tenants file and do not give --tenants-file (docs/tenants.md).",
        },
      );
    return section;
  }
  if (o.optional === true && s.tenantsFile === undefined && !existsSync(tenantsFile)) return undefined;
  return loadTenants(tenantsFile, s.cwd);
}

/** The tenants `specs` (`--tenants` values) select; a value naming nothing is a usage error. */
export function pickTenants(file: LoadedTenants, specs: readonly string[]): TenantEntry[] {
  const { tenants, unknown } = selectTenants(file.value, specs);
  if (unknown.length > 0)
    throw new PublisherError(
      "Usage",
      `--tenants ${unknown.join(", ")}: no tenant of ${file.file} has that name or tag.`,
      {
        hint: `Give all, a tag as key=value (e.g. ring=pilot) or a name: ${file.value.tenants
          .slice(0, 10)
          .map((t) => t.name)
          .join(", ")}${file.value.tenants.length > 10 ? ", …" : ""}.`,
      },
    );
  return tenants;
}
