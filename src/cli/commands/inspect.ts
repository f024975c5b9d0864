import { extname } from "node:path";
import { z } from "zod";
import { PublisherError } from "../../core/errors.js";
import { readMsi } from "../../intunewin/msi.js";
import { openPackage, withoutKeys } from "../../intunewin/read.js";
import { defineCommand } from "../command.js";
import { argument, option } from "../options.js";
import { keyValueTable, printData, type Table } from "../output.js";

export default defineCommand({
  description: [
    "For a .intunewin: its Detection.xml (the encryption and MAC keys only with --show-keys: anyone holding",
    "them can decrypt the package). For a .msi: ProductCode, ProductVersion, ProductName, Manufacturer,",
    "UpgradeCode, PackageCode, ALLUSERS and the architecture, read without any Windows tool.",
  ].join("\n"),
  options: z.object({
    file: argument(z.string().min(1), { value: "FILE", help: "a .intunewin package or a .msi installer" }),
    showKeys: option(z.boolean().default(false), {
      help: "also print a package's encryption and MAC keys (anyone holding them can decrypt the package)",
    }),
  }),
  async run(ctx, o) {
    const ext = extname(o.file).toLowerCase();
    if (ext === ".msi") {
      const m = await readMsi(o.file);
      const data = {
        ProductCode: m.productCode,
        ProductVersion: m.productVersion,
        ProductName: m.productName,
        Manufacturer: m.manufacturer,
        UpgradeCode: m.upgradeCode ?? null,
        PackageCode: m.packageCode,
        ALLUSERS: m.allUsers ?? null,
        Template: m.template,
        Architecture: m.architecture,
        ExecutionContext: m.executionContext,
      };
      printData(ctx, data, () => keyValueTable(Object.entries(data)));
      return 0;
    }
    if (ext !== ".intunewin") {
      throw new PublisherError("UnknownFileType", `"${o.file}" is neither a .intunewin nor a .msi file.`, {
        hint: "inspect reads .intunewin packages and .msi installers.",
      });
    }
    const pkg = await openPackage(o.file);
    pkg.close();
    const d = o.showKeys ? pkg.detection : withoutKeys(pkg.detection);
    const data = { ...d, EncryptedSize: pkg.payloadSize };
    printData(ctx, data, () => {
      const t: Table = keyValueTable([
        ["ToolVersion", d.ToolVersion],
        ["Name", d.Name],
        ["SetupFile", d.SetupFile],
        ["FileName", d.FileName],
        ["UnencryptedContentSize", d.UnencryptedContentSize],
        ["EncryptedSize", pkg.payloadSize],
        ...Object.entries(d.EncryptionInfo),
      ]);
      if (d.MsiInfo) t.push(...keyValueTable(Object.entries(d.MsiInfo)));
      return t;
    });
    return 0;
  },
});
