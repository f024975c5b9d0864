import { resolve } from "node:path";
import { z } from "zod";
import { showProduct } from "../../catalog/catalog.js";
import { saveDownload } from "../../catalog/download/index.js";
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
    "progress with rate and time left on stderr. docs/downloads.md.",
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
      const r = await downloadInstaller(session.downloader(), show, ctx.signal);
      const path = o.out === undefined ? r.path : await saveDownload(r, resolve(ctx.cwd, o.out), show.content.fileName);
      const data = {
        id: show.id,
        version: r.version ?? show.version,
        path,
        sha256: r.sha256,
        size: r.size,
        url: r.url,
        check: r.check,
        fromCache: r.fromCache,
      };
      printData(ctx, data, () => keyValueTable(Object.entries(data)));
      return 0;
    } finally {
      await session.close();
    }
  },
});
