/**
 * Reading the tenants file (docs/tenants.md): YAML or JSON, strict keys, every problem with file:line:column (the
 * definitions' positioned reader), a tenant named twice refused.
 */
import { resolve } from "node:path";
import { AppDefinitionError } from "../../core/app-definition/errors.js";
import { editorJsonSchema } from "../../core/json-schema.js";
import type { DefinitionProblem } from "../../core/app-definition/errors.js";
import { DEFAULT_TENANTS_FILE, TENANTS_MAX_BYTES, tenantsFileSchema } from "../../core/config/tenants.js";
import type { TenantsFile } from "../../core/config/tenants.js";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { parseYamlFile } from "../../definitions/parse.js";
import type { ParsedFile } from "../../definitions/parse.js";
import { readBoundedText } from "../../platform/fs.js";
import { CONFIG_FILE_MAX_BYTES } from "../connect/config-store.js";
import { z } from "zod";

export type LoadedTenants = ParsedFile<TenantsFile>;

/** Reads and checks a tenants file; every problem is positioned (AppDefinitionError, exit 9). */
export async function loadTenants(file: string, cwd = process.cwd()): Promise<LoadedTenants> {
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = await readBoundedText({ path, what: "tenants file", maxBytes: TENANTS_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound")
      throw new PublisherError("TenantsNotFound", e.message, {
        cause: e,
        hint: `Give the file with --tenants-file FILE (default ./${DEFAULT_TENANTS_FILE}); docs/tenants.md shows one.`,
      });
    throw e;
  }
  const parsed = parseYamlFile(
    text,
    path,
    tenantsFileSchema,
    "The tenants file is empty: it is a YAML mapping with a `tenants` list (docs/tenants.md).",
  );
  const problems = duplicateNames(parsed.value, parsed.problem);
  if (problems.length > 0) throw new AppDefinitionError(problems);
  return parsed;
}

/** A tenant named twice: a problem at the second name. */
function duplicateNames(
  file: TenantsFile,
  problem: (path: (string | number)[], message: string) => DefinitionProblem,
): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const seen = new Map<string, number>();
  file.tenants.forEach((t, i) => {
    const key = t.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined)
      problems.push(
        problem(["tenants", i, "name"], `The tenant name ${t.name} is used twice (also tenants[${first}]).`),
      );
    else seen.set(key, i);
  });
  return problems;
}

/**
 * The configuration file's `tenants:` section (the tenants file's schema: `defaults` and `tenants`), positioned in
 * the configuration file; undefined when the file or the section is absent.
 */
export async function loadTenantsSection(configFile: string): Promise<LoadedTenants | undefined> {
  let text: string;
  try {
    text = await readBoundedText({ path: configFile, what: "configuration file", maxBytes: CONFIG_FILE_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound") return undefined;
    throw e;
  }
  const parsed = parseYamlFile(
    text,
    configFile,
    z.looseObject({ tenants: tenantsFileSchema.optional() }),
    "The configuration file is empty.",
  );
  const section = parsed.value.tenants;
  if (section === undefined) return undefined;
  const problems = duplicateNames(section, (path, message) => parsed.problem(["tenants", ...path], message));
  if (problems.length > 0) throw new AppDefinitionError(problems);
  return {
    file: configFile,
    value: section,
    locate: (path, where) => parsed.locate(["tenants", ...path], where),
    problem: (path, message, where) => parsed.problem(["tenants", ...path], message, where),
  };
}

/** The JSON Schema of tenants files for editors (schemas/tenants.schema.json). */
export function tenantsJsonSchema(): Record<string, unknown> {
  return editorJsonSchema(
    tenantsFileSchema,
    "intune-publisher tenants",
    "The tenants one run of sync or connect test serves (MSP mode). Reference: docs/tenants.md.",
    { unrepresentableAsAny: true },
  );
}
