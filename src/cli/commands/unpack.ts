import { z } from "zod";
import { DEFAULT_MAX_ENTRIES, unpackPackage } from "../../intunewin/unpack.js";
import { defineCommand } from "../command.js";
import { argument, option } from "../options.js";
import { keyValueTable, printData } from "../output.js";
import { withProgressBar } from "../progress.js";
import { byteSizeFlag, countFlag } from "../sizes.js";

export default defineCommand({
  description: [
    "Checks the package's MAC (while decrypting it privately; nothing is used unless it matches), checks",
    "its SHA-256 digest, and extracts the",
    "setup folder into DIR (which must be new or empty). Before anything is written, the whole content is",
    "checked: entries that would land outside DIR, names Windows cannot hold, links, duplicates, overlapping",
    "entries (zip bombs), too many entries or too large a total are refused (docs/packaging.md).",
  ].join("\n"),
  options: z.object({
    file: argument(z.string().min(1), { value: "FILE.intunewin", help: "the package" }),
    out: option(z.string().min(1), {
      value: "DIR",
      help: "where to extract (or where to write the zip with --keep-zip)",
    }),
    keepZip: option(z.boolean().default(false), {
      help: "write the decrypted inner zip as DIR/<package name>.zip instead of extracting it",
    }),
    maxExtractedSize: option(byteSizeFlag, {
      value: "SIZE",
      help: "most bytes the extracted files may take (default: 100 times the package's size, at least 1GiB); e.g. 500MiB, 20GiB",
    }),
    maxEntries: option(countFlag, {
      value: "N",
      help: `most entries the package may hold (default: ${DEFAULT_MAX_ENTRIES})`,
    }),
  }),
  async run(ctx, o) {
    const r = await withProgressBar(ctx, "Decrypting", (onProgress) =>
      unpackPackage({
        packagePath: o.file,
        outDir: o.out,
        keepZip: o.keepZip,
        ...(o.maxExtractedSize === undefined ? {} : { maxExtractedSize: o.maxExtractedSize }),
        ...(o.maxEntries === undefined ? {} : { maxEntries: o.maxEntries }),
        signal: ctx.signal,
        onProgress,
      }),
    );
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
