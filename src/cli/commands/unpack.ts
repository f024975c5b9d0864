import { z } from "zod";
import { unpackPackage } from "../../intunewin/unpack.js";
import { defineCommand } from "../command.js";
import { keyValueTable, printData } from "../output.js";
import { createProgressBar } from "../progress.js";

export default defineCommand({
  name: "unpack",
  summary: "Verify, decrypt and extract a .intunewin file",
  usage: "unpack FILE.intunewin --out DIR [--keep-zip] [--output json]",
  details: [
    "Checks the package's MAC before decrypting, decrypts it, checks its SHA-256 digest, and extracts the",
    "setup folder into DIR (which must be new or empty). Entries that would land outside DIR are refused.",
    "",
    "Options:",
    "  --out DIR      where to extract (or where to write the zip with --keep-zip)",
    "  --keep-zip     write the decrypted inner zip as DIR/<package name>.zip instead of extracting it",
  ].join("\n"),
  flags: {
    out: { type: "string" },
    "keep-zip": { type: "boolean" },
  },
  positionals: ["file"],
  schema: z.object({
    file: z.string().min(1),
    out: z.string().min(1),
    "keep-zip": z.boolean().optional(),
  }),
  async run(ctx, o) {
    const bar = createProgressBar(ctx, "Decrypting");
    let r;
    try {
      r = await unpackPackage({
        packagePath: o.file,
        outDir: o.out,
        keepZip: o["keep-zip"] === true,
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
