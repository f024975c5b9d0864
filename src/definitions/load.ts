/**
 * Loads app definition files: parse with positions (parse.ts), resolve the paths they name relative to the file,
 * read scripts and the icon, and check what can be checked before any Graph call (files exist, icon type and size,
 * prebuilt package size). Every problem names file, line, column and field.
 *
 * Every file read here goes through src/platform/fs.ts: regular files only, opened without blocking, size capped
 * (DEFINITION_FILE_LIMITS). The files a definition names must resolve, after symbolic links, inside the
 * definition's folder or a folder the user allowed (`publish --allow-path`): a definition cannot send any other
 * file of the machine to the tenant.
 */
import { realpath, stat } from "node:fs/promises";
import { dirname, extname, resolve, sep } from "node:path";
import type { DefinitionProblem, FieldPath } from "../core/app-definition/errors.js";
import { AppDefinitionError } from "../core/app-definition/errors.js";
import { INTUNE_LIMITS } from "../core/app-definition/limits.js";
import { contentSizeProblem, intuneLimitProblems, restartMismatch } from "../core/app-definition/schema.js";
import type { AssignmentDefinition } from "../core/app-definition/targeting-schema.js";
import { duplicateTargetProblems, targetingFileSchema } from "../core/app-definition/targeting-schema.js";
import type { z } from "zod";
import type { AppDefinition } from "../core/app-definition/schema.js";
import type { DefinitionAssets } from "../core/app-definition/to-graph.js";
import { isPublisherError, PublisherError } from "../core/errors.js";
import { openRegularFile, readBoundedFile, readBoundedText, resolveInsideRoots } from "../platform/fs.js";
import type { ParsedDefinition, ParsedFile } from "./parse.js";
import { parseAppDefinitionLenient, parseYamlFile } from "./parse.js";

/**
 * Size limits of the files a run reads for its definitions (docs/limits.md). A real definition or targeting file
 * is a few KiB; 256 KiB leaves ample room and bounds the YAML parser's work (its worst case, token-dense flow
 * lists, takes about a second and 200 MB at that size). Microsoft Learn documents no limit for Win32 detection and
 * requirement scripts: 200 KiB is ours (Learn's limit for platform and remediation scripts is 200 KB). The icon's
 * is Intune's.
 */
export const DEFINITION_FILE_LIMITS = {
  definitionBytes: 256 * 1024,
  targetingBytes: 256 * 1024,
  scriptBytes: 200 * 1024,
  iconBytes: INTUNE_LIMITS.maxIconBytes,
} as const;

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
  /** Base for relative definition file paths and `allowPaths`; default process.cwd(). */
  cwd?: string;
  /**
   * Folders, besides each definition's own, whose files definitions may name (`publish --allow-path`). Each must
   * exist; relative ones are relative to `cwd`.
   */
  allowPaths?: readonly string[];
  /** Targeting files already read (real path → parsed), shared by the definitions of one run. */
  targetingCache?: Map<string, Promise<ParsedFile<TargetingFile>>>;
}

type TargetingFile = z.output<typeof targetingFileSchema>;

/** Reports one problem at a field of the definition being loaded. */
type Report = (at: FieldPath, message: string) => void;

/** What a definition's paths resolve against: its folder, and the folders it may read (real paths). */
interface PathContext {
  base: string;
  roots: readonly string[];
  report: Report;
  /** Adds problems positioned elsewhere (a shared targeting file's own). */
  add: (problems: readonly DefinitionProblem[]) => void;
  /** Set when a path resolved outside the roots, so the error's hint names --allow-path. */
  outside: boolean;
}

const ALLOW_PATH_HINT =
  "Keep the files a definition names in its folder, or allow another folder with `publish --allow-path DIR` (docs/app-definitions.md#paths).";

/** Reads and checks one definition file; throws AppDefinitionError (kind "input") listing every problem. */
export async function loadAppDefinition(file: string, options: LoadOptions = {}): Promise<LoadedAppDefinition> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, file);
  let text: string;
  try {
    text = await readBoundedText({ path, what: "app definition", maxBytes: DEFINITION_FILE_LIMITS.definitionBytes });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound")
      throw new PublisherError("AppDefinitionNotFound", e.message, {
        cause: e,
        hint: "Check the path; definitions are YAML or JSON files.",
      });
    throw e;
  }
  const lenient = parseAppDefinitionLenient(text, path);
  // Schema problems do not stop the checks that need no valid schema: every problem findable here, in one run.
  const problems: DefinitionProblem[] = [...lenient.problems];
  const base = dirname(path);
  const ctx: PathContext = {
    base,
    roots: [await realpath(base).catch(() => base), ...(await allowedFolders(options.allowPaths ?? [], cwd))],
    report: (at, message) => problems.push(lenient.problem(at, message)),
    add: (more) => problems.push(...more),
    outside: false,
  };
  const refuse = (): never => {
    throw new AppDefinitionError(problems, ctx.outside ? { hint: ALLOW_PATH_HINT } : {});
  };
  if (lenient.definition === undefined) {
    await checkNamedFiles(lenient.data, options, ctx);
    refuse();
  }
  const def = lenient.definition!;
  const parsed: ParsedDefinition = { file: path, definition: def, locate: lenient.locate, problem: lenient.problem };
  const report = ctx.report;

  const content = await resolveContent(def.content, ctx);
  const scripts = await loadScripts(def.detection, def.requirements.rules, ctx);
  const assets: DefinitionAssets = { scripts };
  if (def.icon !== undefined) {
    const icon = await loadIcon(def.icon, ctx);
    if (icon) assets.icon = icon;
  }
  const assignments: LoadedAssignment[] = [];
  if (def.targeting !== undefined) {
    const shared = await loadTargetingFile(def.targeting, options, ctx);
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
  if (problems.length > 0) refuse();
  return { ...parsed, file: path, definition: def, content: content!, assets, assignments };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const textOrUndefined = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * The checks of the files a definition names, on a document the schema refused: each path written as text is
 * checked as it would be on a valid one (content, scripts, icon, targeting file), so its problems come in the same
 * run as the schema's.
 */
async function checkNamedFiles(data: unknown, options: LoadOptions, ctx: PathContext): Promise<void> {
  const d = isRecord(data) ? data : {};
  if (isRecord(d["content"])) {
    const c = d["content"];
    const pkg = textOrUndefined(c["package"]);
    await resolveContent(
      pkg !== undefined
        ? { package: pkg }
        : { source: textOrUndefined(c["source"]), setupFile: textOrUndefined(c["setupFile"]) },
      ctx,
    );
  }
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const requirements = isRecord(d["requirements"]) ? d["requirements"]["rules"] : undefined;
  await loadScripts(list(d["detection"]), list(requirements), ctx);
  const icon = textOrUndefined(d["icon"]);
  if (icon !== undefined) await loadIcon(icon, ctx);
  const targeting = textOrUndefined(d["targeting"]);
  if (targeting !== undefined) await loadTargetingFile(targeting, options, ctx);
}

/** Reads the scripts detection and requirement rules name (each once), reporting problems at the rule. */
async function loadScripts(
  detection: readonly unknown[],
  requirements: readonly unknown[],
  ctx: PathContext,
): Promise<Map<string, Uint8Array>> {
  const named = (rules: readonly unknown[], at: (i: number) => FieldPath, what: string) =>
    rules.flatMap((r, i): [FieldPath, string, string][] =>
      isRecord(r) && r["type"] === "script" && typeof r["script"] === "string" ? [[at(i), r["script"], what]] : [],
    );
  const scripts = new Map<string, Uint8Array>();
  for (const [at, written, what] of [
    ...named(detection, (i) => ["detection", i, "script"], "detection script"),
    ...named(requirements, (i) => ["requirements", "rules", i, "script"], "requirement script"),
  ]) {
    if (scripts.has(written)) continue;
    const bytes = await loadScript(written, what, at, ctx);
    if (bytes) scripts.set(written, bytes);
  }
  return scripts;
}

/** The `--allow-path` folders as real paths; each must be an existing folder. */
async function allowedFolders(dirs: readonly string[], cwd: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirs) {
    const abs = resolve(cwd, d);
    const s = await stat(abs).catch(() => undefined);
    if (!s?.isDirectory())
      throw new PublisherError(
        "AllowPathNotFolder",
        `The folder given with --allow-path ${d} ${s ? "is not a folder" : "does not exist"}.`,
        { hint: "Give --allow-path an existing folder (the folder holding the files your definitions name)." },
      );
    out.push(await realpath(abs));
  }
  return out;
}

/**
 * Resolves a path a definition names (relative to the definition; `\` separators accepted) to its real path,
 * inside the allowed roots; reports it at `at` and returns undefined when it is outside.
 */
async function resolveNamed(
  written: string,
  what: string,
  at: FieldPath,
  ctx: PathContext,
): Promise<string | undefined> {
  try {
    return await resolveInsideRoots(ctx.base, separators(written), ctx.roots, { what });
  } catch (e) {
    if (!isPublisherError(e)) throw e;
    if (e.code === "OutsideAllowedRoots") ctx.outside = true;
    ctx.report(at, e.message);
    return undefined;
  }
}

/** A bounded read of a file a definition names; a refusal (missing, not regular, too large) is reported at `at`. */
async function readNamed(
  path: string,
  what: string,
  maxBytes: number,
  at: FieldPath,
  ctx: PathContext,
): Promise<Buffer | undefined> {
  try {
    return await readBoundedFile({ path, what, maxBytes });
  } catch (e) {
    if (!isPublisherError(e)) throw e;
    ctx.report(at, e.message);
    return undefined;
  }
}

/** Reads a shared targeting file once per run; its problems are positioned in it. */
async function loadTargetingFile(
  written: string,
  options: LoadOptions,
  ctx: PathContext,
): Promise<ParsedFile<TargetingFile> | undefined> {
  // The roots are checked per definition: the cache only saves reading and parsing the file again.
  const path = await resolveNamed(written, "targeting file", ["targeting"], ctx);
  if (path === undefined) return undefined;
  const read = async (): Promise<ParsedFile<TargetingFile>> => {
    const text = await readBoundedText({
      path,
      what: "targeting file",
      maxBytes: DEFINITION_FILE_LIMITS.targetingBytes,
    });
    return parseYamlFile(
      text,
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
    // The targeting file's own problems join the definition's (positioned in the targeting file).
    if (e instanceof AppDefinitionError) return void ctx.add(e.problems);
    ctx.report(
      ["targeting"],
      isPublisherError(e)
        ? e.message
        : `Cannot read the targeting file ${written} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`,
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
  let hint: string | undefined;
  for (const f of files) {
    try {
      loaded.push(await loadAppDefinition(f, opts));
    } catch (e) {
      if (!(e instanceof AppDefinitionError)) throw e;
      if (e.hint === ALLOW_PATH_HINT) hint = ALLOW_PATH_HINT;
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
  if (problems.length > 0) throw new AppDefinitionError(problems, hint === undefined ? {} : { hint });
  return loaded;
}

/** `\` separators are accepted on every OS. */
function separators(written: string): string {
  return sep === "/" ? written.replace(/\\/g, "/") : written;
}

/** The content's files; on a definition the schema refused, `source` or `setupFile` may be missing. */
async function resolveContent(
  c: { package?: string | undefined; source?: string | undefined; setupFile?: string | undefined },
  ctx: PathContext,
): Promise<ResolvedContent | undefined> {
  if (c.package !== undefined) return resolvePackage(c.package, ctx);
  if (c.source === undefined) return undefined;
  const at: FieldPath = ["content", "source"];
  const sourceDir = await resolveNamed(c.source!, "source folder", at, ctx);
  if (sourceDir === undefined) return undefined;
  const s = await stat(sourceDir).catch(() => undefined);
  if (!s) return void ctx.report(at, `The source folder ${c.source} does not exist (looked for ${sourceDir}).`);
  if (!s.isDirectory()) return void ctx.report(at, `${c.source} is not a folder.`);
  // The setup file is inside the source folder, after links too (the packager checks it again).
  if (c.setupFile === undefined) return undefined;
  const setupAt: FieldPath = ["content", "setupFile"];
  let setupFile: string;
  try {
    setupFile = await resolveInsideRoots(sourceDir, separators(c.setupFile!), [sourceDir], { what: "setup file" });
  } catch (e) {
    if (!isPublisherError(e)) throw e;
    return void ctx.report(setupAt, `The setup file ${c.setupFile} resolves outside the source folder ${c.source}.`);
  }
  const f = await stat(setupFile).catch(() => undefined);
  if (!f) return void ctx.report(setupAt, `The setup file ${c.setupFile} does not exist (looked for ${setupFile}).`);
  if (!f.isFile()) return void ctx.report(setupAt, `${c.setupFile} is not a regular file.`);
  return { kind: "folder", sourceDir, setupFile: c.setupFile! };
}

/** A prebuilt package: a regular file, a zip, within Intune's size limit. It is streamed later, not read here. */
async function resolvePackage(written: string, ctx: PathContext): Promise<ResolvedContent | undefined> {
  const at: FieldPath = ["content", "package"];
  const packagePath = await resolveNamed(written, "package", at, ctx);
  if (packagePath === undefined) return undefined;
  let opened;
  try {
    opened = await openRegularFile({ path: packagePath, what: "package" });
  } catch (e) {
    if (!isPublisherError(e)) throw e;
    return void ctx.report(at, e.message);
  }
  const { handle, stats } = opened;
  try {
    const size = contentSizeProblem(stats.size);
    if (size) return void ctx.report(at, size.message);
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead < 4 || head.readUInt32LE(0) !== 0x04034b50)
      return void ctx.report(at, `${written} is not a .intunewin package (not a zip file).`);
    return { kind: "package", packagePath, sizeInBytes: stats.size };
  } finally {
    await handle.close();
  }
}

/** A detection or requirement script: a `.ps1` text file, not empty, within the limit. */
async function loadScript(written: string, what: string, at: FieldPath, ctx: PathContext): Promise<Buffer | undefined> {
  const path = await resolveNamed(written, what, at, ctx);
  if (path === undefined) return undefined;
  if (extname(separators(written)).toLowerCase() !== ".ps1")
    return void ctx.report(
      at,
      `The ${what} ${written} is not a .ps1 file: Intune runs detection and requirement scripts with PowerShell.`,
    );
  const bytes = await readNamed(path, what, DEFINITION_FILE_LIMITS.scriptBytes, at, ctx);
  if (bytes === undefined) return undefined;
  const problem = scriptTextProblem(bytes);
  if (problem) return void ctx.report(at, `The ${what} ${written} ${problem}`);
  return bytes;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Why `bytes` are not a PowerShell script's text, or undefined. PowerShell reads UTF-16 (little or big endian)
 * and UTF-32 by their byte-order mark, anything else as UTF-8 or the ANSI code page: without such a mark, a NUL
 * byte means the file is binary (or UTF-16 without the mark, which PowerShell misreads).
 */
export function scriptTextProblem(bytes: Uint8Array): string | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf16 = (b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff);
  const mark = utf16 ? 2 : b.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0;
  if (b.length === mark) return "is empty.";
  if (utf16) return (b.length - mark) % 2 === 0 ? undefined : "is not UTF-16 text: it has an odd number of bytes.";
  const nul = b.indexOf(0);
  return nul === -1
    ? undefined
    : `is not text: it has a NUL byte at offset ${nul} (save it as UTF-8, or as UTF-16 with a byte-order mark).`;
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

async function loadIcon(written: string, ctx: PathContext): Promise<DefinitionAssets["icon"]> {
  const path = await resolveNamed(written, "icon", ["icon"], ctx);
  if (path === undefined) return undefined;
  const bytes = await readNamed(path, "icon", DEFINITION_FILE_LIMITS.iconBytes, ["icon"], ctx);
  if (bytes === undefined) return undefined;
  const type = iconType(bytes);
  if (!type)
    return void ctx.report(["icon"], `The icon ${written} is not a PNG or JPEG image (checked its first bytes).`);
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
