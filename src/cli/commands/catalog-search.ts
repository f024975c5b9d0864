import { z } from "zod";
import { searchCatalog } from "../../catalog/catalog.js";
import { INDEX_LIMITS } from "../../catalog/search.js";
import { openCatalog, sourceOptions } from "../catalog-session.js";
import { defineCommand } from "../command.js";
import { argument, option } from "../options.js";
import { printData } from "../output.js";

export default defineCommand({
  description: [
    "Searches the source's package index (ids, names, monikers, tags; best matches first). Reads the index only:",
    "nothing is downloaded. The JSON output is a list of { id, name, version, tags, moniker, lastUpdate, source }.",
  ].join("\n"),
  notes: "Exit codes: 0 (also when nothing matches), 7 the source cannot be reached, 9 a bad source or index.",
  options: z.object({
    text: argument(z.string().min(1).max(200), { value: "TEXT", help: "words to look for (any case)" }),
    limit: option(z.coerce.number().int().min(1).max(INDEX_LIMITS.defaultResults).optional(), {
      value: "N",
      help: `at most N results (default ${INDEX_LIMITS.defaultResults})`,
    }),
    ...sourceOptions.shape,
  }),
  async run(ctx, o) {
    const session = await openCatalog(ctx, o);
    try {
      const hits = await searchCatalog([session.source], o.text, o.limit);
      const rows = hits.map(({ rank: _rank, ...h }) => h);
      if (ctx.output === "table" && rows.length === 0) {
        ctx.stdout.write(`Nothing in ${session.source.label} matches "${o.text}".\n`);
        return 0;
      }
      printData(ctx, rows, () => [
        ["Id", "Name", "Version", "Tags"],
        ...rows.map((h) => [h.id, h.name, h.version, h.tags.slice(0, 5).join(", ")]),
      ]);
      return 0;
    } finally {
      await session.close();
    }
  },
});
