import { z } from "zod";
import { packageFolder } from "../../intunewin/package.js";
import { defineCommand } from "../command.js";
import { option } from "../options.js";
import { keyValueTable, printData } from "../output.js";
import { withProgressBar } from "../progress.js";

export default defineCommand({
  description: [
    "Writes DIR/<setup file name without extension>.intunewin in the format of Microsoft's Win32 Content Prep",
    "Tool: the whole source folder zipped, encrypted with AES-256-CBC and a random key, with an HMAC and a",
    "SHA-256 digest, and Detection.xml (MsiInfo filled when the setup file is an .msi).",
  ].join("\n"),
  options: z.object({
    source: option(z.string().min(1), {
      short: "c",
      value: "DIR",
      help: "the setup folder (everything in it is packaged)",
    }),
    setup: option(z.string().min(1), {
      short: "s",
      value: "FILE",
      help: "the setup file, relative to the source folder (e.g. setup.exe, install.ps1, app.msi)",
    }),
    out: option(z.string().min(1), {
      value: "DIR",
      help: "the output folder (created if missing; must not be inside the source folder)",
    }),
  }),
  async run(ctx, o) {
    const result = await withProgressBar(ctx, "Packaging", (onProgress) =>
      packageFolder({ sourceDir: o.source, setupFile: o.setup, outDir: o.out, signal: ctx.signal, onProgress }),
    );
    const summary: Record<string, unknown> = {
      path: result.path,
      setupFile: result.setupFile,
      name: result.name,
      fileCount: result.fileCount,
      unencryptedContentSize: result.unencryptedContentSize,
      encryptedSize: result.encryptedSize,
      fileDigest: result.fileDigest,
    };
    if (result.msi) {
      summary.msi = {
        productCode: result.msi.productCode,
        productVersion: result.msi.productVersion,
        productName: result.msi.productName,
        manufacturer: result.msi.manufacturer,
        upgradeCode: result.msi.upgradeCode,
        packageCode: result.msi.packageCode,
        allUsers: result.msi.allUsers,
        architecture: result.msi.architecture,
        executionContext: result.msi.executionContext,
      };
    }
    printData(ctx, summary, () =>
      keyValueTable([
        ["Package", result.path],
        ["Setup file", result.setupFile],
        ["Name", result.name],
        ["Files", result.fileCount],
        ["Content size", result.unencryptedContentSize],
        ["Encrypted size", result.encryptedSize],
        ["File digest", result.fileDigest],
        ["MSI product code", result.msi?.productCode],
        ["MSI product version", result.msi?.productVersion],
      ]),
    );
    return 0;
  },
});
