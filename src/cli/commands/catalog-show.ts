import { stringify } from "yaml";
import { z } from "zod";
import { showProduct } from "../../catalog/catalog.js";
import type { ShowResult } from "../../catalog/catalog.js";
import { showFixedFromCache } from "../../catalog/prepare.js";
import { PublisherError } from "../../core/errors.js";
import { openCatalog, sourceOptions } from "../catalog-session.js";
import { productOptions, showOptions } from "../catalog-product.js";
import { defineCommand } from "../command.js";
import type { CommandContext } from "../command.js";
import { argument } from "../options.js";
import { renderTable } from "../output.js";
import type { Table } from "../output.js";

/** `--output yaml`: the app definition alone, as a file `publish` takes (with its installer and scripts beside it). */
function printDefinition(ctx: CommandContext, r: ShowResult): void {
  if (r.definition === null)
    throw new PublisherError("DefinitionPending", `${r.id}: ${r.pending ?? "no definition could be made."}`, {
      hint: `Run \`intune-publisher catalog import ${r.id} --out DIR\`: it downloads the installer and writes the definition.`,
    });
  ctx.stdout.write(`# From ${r.source}: ${r.id} ${r.version ?? ""}\n${stringify(r.definition, { lineWidth: 0 })}`);
  const needs = [
    `the installer in ${r.content.folder}/${r.content.fileName} beside this file (\`catalog download ${r.id} --out ${r.content.folder}\`)`,
    ...r.files.map((f) => `the ${f.purpose} ${f.path}`),
  ];
  ctx.stderr.write(
    `To publish it, save it as a .yaml file with ${needs.join(", ")}${r.files.length > 0 ? ` (\`catalog import ${r.id} --out DIR\` writes them all)` : ""}.\n`,
  );
}

function showTable(r: ShowResult): Table {
  const d = r.definition;
  const rows: Table = [
    ["Id", r.id],
    ["Version", r.version ?? "(known only after download)"],
    ["Source", r.source],
    ["Installer", `${r.installer.type} ${r.installer.architecture}, ${r.installer.scope} scope`],
    ["URL", r.installer.url],
    ["SHA-256", r.installer.sha256 ?? "(none published: recorded in the lock file at the first download)"],
    ["Silent switches", r.installer.silentArgs],
    ["Product code", r.installer.productCode ?? "-"],
  ];
  if (d !== null) {
    rows.push(["Definition id", d.id], ["Install command", d.install.command]);
    rows.push(["Uninstall command", d.uninstall.command]);
    rows.push(["Detection", d.detection.map((x) => x.type).join(", ")]);
  } else rows.push(["Definition", r.pending ?? "-"]);
  for (const s of r.skipped) rows.push(["Skipped", `Installers[${s.index}] ${s.type} ${s.architecture}: ${s.reason}`]);
  for (const e of r.explanations) rows.push(["Why", e]);
  for (const w of r.warnings) rows.push(["Warning", w]);
  return rows;
}

export default defineCommand({
  description: [
    "Shows the installer the rules choose for a product (and those skipped, with why) and the app definition it",
    "becomes, every decision explained (docs/catalog.md). Reads manifests only: nothing is downloaded.",
    "--output json prints { id, version, installer: { url, sha256, type, architecture, scope, silentArgs, productCode },",
    "skipped, definition, files, content, explanations, warnings }; --output yaml prints the app definition alone, a",
    "file `publish` accepts as it is once its installer (and any script named in files) is beside it.",
  ].join("\n"),
  notes:
    "Exit codes: 0 shown, 9 bad id, version, manifest or source, or no installer usable as a Win32 app, 7 network.",
  options: z.object({
    id: argument(z.string().min(1), { value: "ID", help: "the package id (Publisher.Package)" }),
    ...productOptions.shape,
    ...sourceOptions.shape,
  }),
  async run(ctx, o) {
    const session = await openCatalog(ctx, o);
    try {
      const r = await showFixedFromCache(
        session.source,
        await showProduct(session.source, o.id, showOptions(o)),
        showOptions(o),
        session.cacheDir,
        session.lockFile,
      );
      if (ctx.output === "yaml") printDefinition(ctx, r);
      else if (ctx.output === "json") ctx.stdout.write(JSON.stringify(r, null, 2) + "\n");
      else ctx.stdout.write(renderTable(showTable(r)) + "\n");
      return 0;
    } finally {
      await session.close();
    }
  },
});
