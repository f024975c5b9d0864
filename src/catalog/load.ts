/**
 * Loads app definition files: parse with positions (parse.ts), resolve the paths they name relative to the file,
 * read scripts and the icon, and check what can be checked before any Graph call (files exist, icon type and size,
 * prebuilt package size). Every problem names file, line, column and field.
 */
import { open, readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve, sep } from "node:path";
import type { DefinitionProblem, FieldPath } from "../core/app-definition/errors.js";
import { AppDefinitionError } from "../core/app-definition/errors.js";
import { INTUNE_LIMITS } from "../core/app-definition/limits.js";
import { contentSizeProblem, intuneLimitProblems, restartMismatch } from "../core/app-definition/schema.js";
import type { AssignmentDefinition } from "../core/app-definition/targeting-schema.js";
import { duplicateTargetProblems, targetingFileSchema } from "../core/app-definition/targeting-schema.js";
import type { z } from "zod";
import type { AppDefinition } from "../core/app-definition/schema.js";
import type { DefinitionAssets } from "../core/app-definition/to-graph.js";
import { PublisherError } from "../core/errors.js";
import type { ParsedDefinition, ParsedFile } from "./parse.js";
import { parseAppDefinition, parseYamlFile } from "./parse.js";

/** Where the content comes from, as absolute paths. */
export type ResolvedContent =
  | { kind: "folder"; sourceDir: string; setupFile: string }
  | { kind: "package"; packagePath: string; sizeInBytes: number };

export interface LoadedAppDefinition extends ParsedDefinition {
  /** Absolute path of the definition file. */
  file: string;
  definition: AppDefinition;
  content: ResolvedContent;
  assets: DefinitionAssets;
  /** The assignments: the targeting file's first, then the definition's own; each positioned in its own file. */
  assignments: LoadedAssignment[];
}

/** One assignment and where it is written (the definition, or a shared targeting file). */
export interface LoadedAssignment {
  assignment: AssignmentDefinition;
  /** A problem about this assignment (`field` under it, e.g. ["group"]), positioned in the file that has it. */
  problem(field: FieldPath, message: string): DefinitionProblem;
}

export interface LoadOptions {
  /** Base for relative definition file paths; default process.cwd(). */
  cwd?: string;
  /** Targeting files already read (absolute path → parsed), shared by the definitions of one run. */
  targetingCache?: Map<string, Promise<ParsedFile<TargetingFile>>>;
}

type TargetingFile = z.output<typeof targetingFileSchema>;

/** Reads and checks one definition file; throws AppDefinitionError (kind "input") listing every problem. */
export async function loadAppDefinition(file: string, options: LoadOptions = {}): Promise<LoadedAppDefinition> {
  const path = resolve(options.cwd ?? process.cwd(), file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new PublisherError("input", "AppDefinitionNotFound", `Cannot read the app definition ${file}.`, {
      cause: e,
      hint: "Check the path; definitions are YAML or JSON files.",
    });
  }
  const parsed = parseAppDefinition(text.replace(/^\uFEFF/, ""), path);
  const problems: DefinitionProblem[] = [];
  const base = dirname(path);
  const report = (at: FieldPath, message: string) => problems.push(parsed.problem(at, message));
  const def = parsed.definition;

  const content = await resolveContent(def, base, report);
  const scripts = new Map<string, Uint8Array>();
  const scriptRules: [FieldPath, string][] = [
    ...def.detection.flatMap((r, i): [FieldPath, string][] =>
      r.type === "script" ? [[["detection", i, "script"], r.script]] : [],
    ),
    ...def.requirements.rules.flatMap((r, i): [FieldPath, string][] =>
      r.type === "script" ? [[["requirements", "rules", i, "script"], r.script]] : [],
    ),
  ];
  for (const [at, written] of scriptRules) {
    if (scripts.has(written)) continue;
    const bytes = await readSmallFile(resolvePath(base, written), at, "script", report);
    if (bytes === undefined) continue;
    if (bytes.length === 0) report(at, `The script ${written} is empty.`);
    else scripts.set(written, bytes);
  }
  const assets: DefinitionAssets = { scripts };
  if (def.icon !== undefined) {
    const icon = await loadIcon(resolvePath(base, def.icon), def.icon, report);
    if (icon) assets.icon = icon;
  }
  const assignments: LoadedAssignment[] = [];
  if (def.targeting !== undefined) {
    const shared = await loadTargetingFile(resolvePath(base, def.targeting), def.targeting, options, report);
    if (shared)
      shared.value.assignments.forEach((a, i) =>
        assignments.push({
          assignment: a,
          problem: (field, message) => shared.problem(["assignments", i, ...field], message),
        }),
      );
    const fromFile = assignments.length;
    for (const x of assignments)
      if (x.assignment.restart !== undefined && def.install.restartBehavior !== "basedOnReturnCode")
        problems.push(x.problem(["restart"], `${restartMismatch(def.install.restartBehavior)} (used by ${def.id})`));
    (def.assignments ?? []).forEach((a, i) =>
      assignments.push({
        assignment: a,
        problem: (field, message) => parsed.problem(["assignments", i, ...field], message),
      }),
    );
    for (const p of duplicateTargetProblems(assignments.map((x) => x.assignment)))
      problems.push(
        assignments[p.index]!.problem(
          [],
          p.index >= fromFile ? `${p.message} The targeting file ${def.targeting} already has this target.` : p.message,
        ),
      );
    for (const p of intuneLimitProblems(def, fromFile))
      if (p.path[0] === "notes" || p.path[0] === "assignments")
        report(p.path[0] === "notes" ? p.path : ["targeting"], p.message);
  } else {
    (def.assignments ?? []).forEach((a, i) =>
      assignments.push({
        assignment: a,
        problem: (field, message) => parsed.problem(["assignments", i, ...field], message),
      }),
    );
  }
  if (problems.length > 0) throw new AppDefinitionError(problems);
  return { ...parsed, file: path, definition: def, content: content!, assets, assignments };
}

/** Reads a shared targeting file once per run; its problems are positioned in it. */
async function loadTargetingFile(
  path: string,
  written: string,
  options: LoadOptions,
  report: Report,
): Promise<ParsedFile<TargetingFile> | undefined> {
  const read = async (): Promise<ParsedFile<TargetingFile>> => {
    const text = await readFile(path, "utf8");
    return parseYamlFile(
      text.replace(/^\uFEFF/, ""),
      path,
      targetingFileSchema,
      "The targeting file is empty: it is a YAML mapping with an `assignments` list (docs/app-definitions.md).",
    );
  };
  const cache = options.targetingCache;
  let pending = cache?.get(path);
  if (pending === undefined) {
    pending = read();
    cache?.set(path, pending);
  }
  try {
    return await pending;
  } catch (e) {
    if (e instanceof AppDefinitionError) throw e;
    report(
      ["targeting"],
      `Cannot read the targeting file ${written} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
    );
    return undefined;
  }
}

/**
 * Loads several definitions, reporting the problems of all files at once, and refuses two files with the same
 * `id` (each id names one app in the tenant).
 */
export async function loadAppDefinitions(
  files: readonly string[],
  options: LoadOptions = {},
): Promise<LoadedAppDefinition[]> {
  const loaded: LoadedAppDefinition[] = [];
  const problems: DefinitionProblem[] = [];
  const opts: LoadOptions = { ...options, targetingCache: options.targetingCache ?? new Map() };
  const seen = new Set<string>();
  for (const f of files) {
    try {
      loaded.push(await loadAppDefinition(f, opts));
    } catch (e) {
      if (!(e instanceof AppDefinitionError)) throw e;
      // A shared targeting file's problems come once, however many definitions use it.
      for (const p of e.problems) {
        const key = `${p.file}:${p.line}:${p.column}:${p.message}`;
        if (!seen.has(key)) problems.push(p);
        seen.add(key);
      }
    }
  }
  const byId = new Map<string, LoadedAppDefinition>();
  for (const d of loaded) {
    const first = byId.get(d.definition.id);
    if (first) {
      problems.push(
        d.problem(["id"], `The id "${d.definition.id}" is already used by ${first.file}; each app needs its own id.`),
      );
    } else byId.set(d.definition.id, d);
  }
  if (problems.length > 0) throw new AppDefinitionError(problems);
  return loaded;
}

/** Paths are relative to the definition file; `\` separators are accepted on every OS. */
export function resolvePath(base: string, written: string): string {
  const p = sep === "/" ? written.replace(/\\/g, "/") : written;
  return isAbsolute(p) ? p : resolve(base, p);
}

type Report = (at: FieldPath, message: string) => void;

async function resolveContent(def: AppDefinition, base: string, report: Report): Promise<ResolvedContent | undefined> {
  const c = def.content;
  if (c.package !== undefined) {
    const packagePath = resolvePath(base, c.package);
    const s = await statOrReport(packagePath, ["content", "package"], `The package ${c.package}`, report);
    if (!s) return undefined;
    if (!s.isFile()) return void report(["content", "package"], `${c.package} is not a file.`);
    const size = contentSizeProblem(s.size);
    if (size) return void report(["content", "package"], size.message);
    const head = await readHead(packagePath, 4);
    if (head.length < 4 || head.readUInt32LE(0) !== 0x04034b50) {
      return void report(["content", "package"], `${c.package} is not a .intunewin package (not a zip file).`);
    }
    return { kind: "package", packagePath, sizeInBytes: s.size };
  }
  const sourceDir = resolvePath(base, c.source!);
  const s = await statOrReport(sourceDir, ["content", "source"], `The source folder ${c.source}`, report);
  if (!s) return undefined;
  if (!s.isDirectory()) return void report(["content", "source"], `${c.source} is not a folder.`);
  const setupFile = resolvePath(sourceDir, c.setupFile!);
  const f = await statOrReport(setupFile, ["content", "setupFile"], `The setup file ${c.setupFile}`, report);
  if (!f) return undefined;
  if (!f.isFile()) return void report(["content", "setupFile"], `${c.setupFile} is not a file.`);
  return { kind: "folder", sourceDir, setupFile: c.setupFile! };
}

async function statOrReport(path: string, at: FieldPath, what: string, report: Report) {
  try {
    return await stat(path);
  } catch {
    report(at, `${what} does not exist (looked for ${path}).`);
    return undefined;
  }
}

async function readSmallFile(path: string, at: FieldPath, what: string, report: Report): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    report(
      at,
      code === "EISDIR" ? `The ${what} ${path} is a folder.` : `The ${what} file does not exist (looked for ${path}).`,
    );
    return undefined;
  }
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

/** The icon's MIME type from its first bytes, or undefined when it is neither PNG nor JPEG. */
export function iconType(bytes: Uint8Array): "image/png" | "image/jpeg" | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.subarray(0, 8).equals(PNG_MAGIC)) return "image/png";
  if (b.subarray(0, 3).equals(JPEG_MAGIC)) return "image/jpeg";
  return undefined;
}

async function loadIcon(path: string, written: string, report: Report): Promise<DefinitionAssets["icon"]> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) return void report(["icon"], `The icon ${written} is not a file.`);
    size = s.size;
  } catch {
    return void report(["icon"], `The icon file does not exist (looked for ${path}).`);
  }
  const max = INTUNE_LIMITS.maxIconBytes;
  if (size > max) {
    return void report(["icon"], `The icon is ${size} bytes; keep it under ${max} bytes (1 MiB) for Intune.`);
  }
  const bytes = await readFile(path);
  const type = iconType(bytes);
  if (!type) return void report(["icon"], `The icon ${written} is not a PNG or JPEG image (checked its first bytes).`);
  return { type, bytes };
}

/**
 * Pre-flight check of the content size once it is known (after packaging a source folder: the encrypted size).
 * Throws AppDefinitionError positioned at the definition's `content` field.
 */
export function assertContentSize(loaded: ParsedDefinition, sizeInBytes: number, maxBytes?: number): void {
  const p = contentSizeProblem(sizeInBytes, maxBytes);
  if (p) throw new AppDefinitionError([loaded.problem(p.path, p.message)]);
}
