import { randomBytes } from "node:crypto";
import { cp, lstat, mkdir, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from "node:path";
import { stringify } from "yaml";
import { z } from "zod";
import { saveDownload } from "../../catalog/download/index.js";
import { generatedFileBytes } from "../../catalog/to-definition.js";
import { PublisherError } from "../../core/errors.js";
import { openCatalog, sourceOptions } from "../catalog-session.js";
import { prepareProduct, productOptions, showOptions } from "../catalog-product.js";
import type { ReadyProduct } from "../catalog-product.js";
import { defineCommand } from "../command.js";
import { argument, option } from "../options.js";
import { printData } from "../output.js";

function outError(
  code: "DuplicateDefinition" | "OutputFolderNotEmpty" | "OutputFolderUnsafe",
  message: string,
  hint: string,
): PublisherError {
  return new PublisherError(code, message, { hint });
}

/** The output folder must not exist yet, or be an empty folder (not a link): an import never mixes with other files. */
async function checkOutDir(out: string): Promise<"missing" | "empty"> {
  const s = await lstat(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (s === undefined) return "missing";
  const hint = "Give a new folder (or an empty one) with --out DIR; the import writes one folder per product in it.";
  if (s.isSymbolicLink())
    throw outError("OutputFolderUnsafe", `The output folder ${out} is a symbolic link: refused.`, hint);
  if (!s.isDirectory()) throw outError("OutputFolderUnsafe", `The output ${out} exists and is not a folder.`, hint);
  if ((await readdir(out)).length > 0)
    throw outError("OutputFolderNotEmpty", `The output folder ${out} is not empty: nothing was written.`, hint);
  return "empty";
}

/** A path our own generator gave, relative to the definition's folder; anything else is a bug, refused. */
function inside(folder: string, relative: string): string {
  const n = normalize(relative);
  if (isAbsolute(n) || n === ".." || n.startsWith(`..${sep}`))
    throw new PublisherError("UnsafeGeneratedPath", `A generated file path leaves its folder: ${relative}.`);
  return join(folder, n);
}

/** `<folder>/<id>.yaml`, `<folder>/source/<installer>`, and the scripts the definition names. */
async function writeProduct(folder: string, p: ReadyProduct): Promise<string> {
  const { show, download } = p;
  const definition = show.definition!;
  await mkdir(folder, { recursive: true });
  const file = join(folder, `${definition.id}.yaml`);
  const header = `# From ${show.source}: ${show.id} ${show.version ?? ""} (intune-publisher catalog import)\n`;
  await writeFile(file, header + stringify(definition, { lineWidth: 0 }));
  // a zip with a nested installer: its files (unpacked and checked in the cache), not the zip
  if (p.unpacked !== undefined) await cp(p.unpacked, inside(folder, show.content.folder), { recursive: true });
  else await saveDownload(download, inside(folder, show.content.folder), show.content.fileName);
  for (const f of show.files) {
    const path = inside(folder, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, generatedFileBytes(f));
  }
  return file;
}

export default defineCommand({
  description: [
    "Writes, for each product, its app definition with the verified installer (and any generated detection or",
    "uninstall script) into DIR/<definition id>/, for review or editing before `publish DIR/*/*.yaml`. An MSI's own",
    "ProductCode and ProductVersion are read after download and checked against the manifest. DIR must be new or",
    "empty; everything is written in a temporary folder beside it and moved into place at the end, so a failure",
    "leaves nothing behind.",
  ].join("\n"),
  notes:
    "Exit codes: 0 written, 9 bad id, source, manifest or output folder, 10 hash mismatch, 7 network, 130 cancelled.",
  options: z.object({
    ids: argument(z.array(z.string().min(1, "must not be empty")).min(1, "name at least one package id"), {
      value: "ID…",
      help: "package ids (Publisher.Package)",
    }),
    out: option(z.string().min(1), { value: "DIR", help: "a new or empty folder for the definitions" }),
    ...productOptions.shape,
    ...sourceOptions.shape,
  }),
  async run(ctx, o) {
    const out = resolve(ctx.cwd, o.out);
    const state = await checkOutDir(out);
    const session = await openCatalog(ctx, o);
    const temp = join(dirname(out), `.${basename(out)}.import-${randomBytes(6).toString("hex")}`);
    try {
      const downloader = session.downloader();
      const ready: ReadyProduct[] = [];
      for (const id of o.ids)
        ready.push(await prepareProduct(session.source, downloader, id, showOptions(o), ctx.signal));
      const seen = new Map<string, string>();
      for (const p of ready) {
        const defId = p.show.definition!.id;
        const other = seen.get(defId);
        if (other !== undefined)
          throw outError(
            "DuplicateDefinition",
            `${other} and ${p.show.id} both become the definition ${defId}.`,
            "Import each product once.",
          );
        seen.set(defId, p.show.id);
      }
      await mkdir(dirname(out), { recursive: true });
      const rows: { id: string; version: string | null; definition: string; installer: string; sha256: string }[] = [];
      for (const p of ready) {
        const defId = p.show.definition!.id;
        await writeProduct(join(temp, defId), p);
        rows.push({
          id: p.show.id,
          version: p.show.version,
          definition: join(out, defId, `${defId}.yaml`),
          installer: join(out, defId, p.show.content.folder, p.show.content.fileName),
          sha256: p.download.sha256,
        });
      }
      if (state === "empty") await rmdir(out);
      await rename(temp, out);
      printData(ctx, rows, () => [
        ["Id", "Version", "Definition", "SHA-256"],
        ...rows.map((r) => [r.id, r.version ?? "", r.definition, r.sha256]),
      ]);
      ctx.stderr.write(`Review them, then: intune-publisher publish ${join(out, "*", "*.yaml")}\n`);
      return 0;
    } finally {
      await rm(temp, { recursive: true, force: true });
      await session.close();
    }
  },
});
