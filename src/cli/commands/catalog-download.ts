import { randomBytes } from "node:crypto";
import { cp, mkdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { showProduct } from "../../catalog/catalog.js";
import { saveDownload } from "../../catalog/download/index.js";
import { safeFileName } from "../../catalog/download/file-name.js";
import { unpackDownload } from "../../catalog/prepare.js";
import { openCatalog, sourceOptions } from "../catalog-session.js";
import { downloadInstaller, productOptions, showOptions } from "../catalog-product.js";
import { defineCommand } from "../command.js";
import { argument, option } from "../options.js";
import { keyValueTable, printData } from "../output.js";

export default defineCommand({
  description: [
    "Downloads the installer `catalog show` chooses into the download cache and verifies its SHA-256 (the published",
    "hash, else the lock file's for that version; a first download without either is recorded in it) before it is",
    "used. With --out, copies it into DIR (under a temporary name, then renamed). Prints the path and the hash;",
    "progress with rate and time left on stderr. A zip with a nested installer is also unpacked (checked as sync",
    "does): `unpacked` is the folder of its files (with --out, DIR/<zip name without .zip>), `installer` the nested",
    "installer in it. docs/downloads.md.",
  ].join("\n"),
  notes:
    "Exit codes: 0 verified, 10 hash mismatch (nothing kept), 7 network (a partial download is resumed next time), " +
    "9 bad id, version, source or URL, 130 cancelled.",
  options: z.object({
    id: argument(z.string().min(1), { value: "ID", help: "the package id (Publisher.Package)" }),
    out: option(z.string().min(1).optional(), {
      value: "DIR",
      help: "also copy the verified file into DIR (created when missing; a file of the same name is replaced)",
    }),
    ...productOptions.shape,
    ...sourceOptions.shape,
  }),
  async run(ctx, o) {
    const session = await openCatalog(ctx, o);
    try {
      const show = await showProduct(session.source, o.id, showOptions(o));
      const downloader = session.downloader();
      const r = await downloadInstaller(downloader, show, ctx.signal);
      const extract = show.content.extract;
      // a zip with a nested installer: unpacked and checked (as sync does) before anything is copied out
      let unpacked = extract === undefined ? undefined : await unpackDownload(downloader, show, r, ctx.signal);
      const out = o.out === undefined ? undefined : resolve(ctx.cwd, o.out);
      const path = out === undefined ? r.path : await saveDownload(r, out, show.content.fileName);
      if (out !== undefined && unpacked !== undefined)
        unpacked = await saveFolder(unpacked, out, folderName(show.content.fileName));
      const data = {
        id: show.id,
        version: r.version ?? show.version,
        path,
        sha256: r.sha256,
        size: r.size,
        url: r.url,
        check: r.check,
        fromCache: r.fromCache,
        ...(unpacked === undefined || extract === undefined
          ? {}
          : { unpacked, installer: join(unpacked, ...extract.setupFile.split("/")) }),
      };
      printData(ctx, data, () => keyValueTable(Object.entries(data)));
      return 0;
    } finally {
      await session.close();
    }
  },
});

/** The unpacked copy's name beside the zip: the zip's name without `.zip` (`-unpacked` added when it has none). */
function folderName(zipName: string): string {
  const name = safeFileName(zipName);
  const base = name.replace(/\.zip$/i, "");
  return base === name || base === "" ? `${name}-unpacked` : base;
}

/** Copies an unpacked zip's folder to `outDir/name`: under a temporary name, then renamed (an older copy replaced). */
async function saveFolder(folder: string, outDir: string, name: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const target = join(outDir, name);
  const temp = join(outDir, `.${name}.${randomBytes(6).toString("hex")}.partial`);
  try {
    await cp(folder, temp, { recursive: true, errorOnExist: true, force: false });
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
  return target;
}
