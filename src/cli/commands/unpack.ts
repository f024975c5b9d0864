import { z } from "zod";
import { DEFAULT_MAX_ENTRIES, unpackPackage } from "../../intunewin/unpack.js";
import { defineCommand } from "../command.js";
import { keyValueTable, printData } from "../output.js";
import { createProgressBar } from "../progress.js";
import { byteSizeFlag, countFlag } from "../sizes.js";

export default defineCommand({
  name: "unpack",
  summary: "Verify, decrypt and extract a .intunewin file",
  usage: "unpack FILE.intunewin --out DIR [--keep-zip] [--max-extracted-size SIZE] [--max-entries N] [--output json]",
  details: [
    "Checks the package's MAC before decrypting, decrypts it, checks its SHA-256 digest, and extracts the",
    "setup folder into DIR (which must be new or empty). Before anything is written, the whole content is",
    "checked: entries that would land outside DIR, names Windows cannot hold, links, duplicates, overlapping",
    "entries (zip bombs), too many entries or too large a total are refused (docs/packaging.md).",
    "",
    "Options:",
    "  --out DIR                    where to extract (or where to write the zip with --keep-zip)",
    "  --keep-zip                   write the decrypted inner zip as DIR/<package name>.zip instead of extracting it",
    "  --max-extracted-size SIZE    most bytes the extracted files may take (default: 100 times the package's",
    "                               size, at least 1GiB); e.g. 500MiB, 20GiB",
    `  --max-entries N              most entries the package may hold (default: ${DEFAULT_MAX_ENTRIES})`,
  ].join("\n"),
  flags: {
    out: { type: "string" },
    "keep-zip": { type: "boolean" },
    "max-extracted-size": { type: "string" },
    "max-entries": { type: "string" },
  },
  positionals: ["file"],
  schema: z.object({
    file: z.string().min(1),
    out: z.string().min(1),
    "keep-zip": z.boolean().optional(),
    "max-extracted-size": byteSizeFlag,
    "max-entries": countFlag,
  }),
  async run(ctx, o) {
    const bar = createProgressBar(ctx, "Decrypting");
    let r;
    try {
      r = await unpackPackage({
        packagePath: o.file,
        outDir: o.out,
        keepZip: o["keep-zip"] === true,
        ...(o["max-extracted-size"] === undefined ? {} : { maxExtractedSize: o["max-extracted-size"] }),
        ...(o["max-entries"] === undefined ? {} : { maxEntries: o["max-entries"] }),
        signal: ctx.signal,
        onProgress: (done, total) => bar.update(done, total),
      });
    } finally {
      bar.finish();
    }
    const data = {
      outDir: r.outDir,
      zipPath: r.zipPath,
      files: r.files,
      folders: r.folders,
      setupFile: r.detection.SetupFile,
      name: r.detection.Name,
      unencryptedContentSize: r.detection.UnencryptedContentSize,
    };
    printData(ctx, data, () =>
      keyValueTable([
        ["Output", r.outDir],
        ["Zip", r.zipPath],
        ["Files", r.zipPath ? undefined : r.files],
        ["Empty folders", r.zipPath ? undefined : r.folders],
        ["Setup file", r.detection.SetupFile],
      ]),
    );
    return 0;
  },
});
