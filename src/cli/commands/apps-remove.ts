import { z } from "zod";
import { removeApp } from "../../publish/apps.js";
import { defineCommand } from "../command.js";
import { keyValueTable, printData } from "../output.js";
import { settingsFlags, settingsSchema } from "./connect-test.js";
import { withGraph } from "./publish.js";

export default defineCommand({
  name: "apps remove",
  summary: "Delete a Win32 app published by intune-publisher (others only with --force)",
  usage: "apps remove ID|NAME [--force] [--profile P] [--cloud C] [--output json]",
  details: [
    "ID|NAME: an app id, a display name (case-insensitive) or a definition id; it must name exactly one app.",
    "Apps without the intune-publisher ownership stamp in their notes are refused unless --force is given.",
    "Intune refuses to delete an app other apps depend on or supersede: remove those relationships first.",
  ].join("\n"),
  flags: { ...settingsFlags, force: { type: "boolean" } },
  positionals: ["app"],
  schema: settingsSchema.extend({ app: z.string().min(1), force: z.boolean().optional() }),
  async run(ctx, o) {
    const { row, target } = await withGraph(ctx, o, async (s, t) => ({
      row: await removeApp(s.graph, o.app, { force: o.force === true, signal: ctx.signal }),
      target: t.info,
    }));
    printData(ctx, { removed: row, target }, () =>
      keyValueTable([
        ["Removed app", row.appId],
        ["Name", row.displayName],
        ["Version", row.displayVersion],
        ["Definition", row.definitionId ?? "-"],
      ]),
    );
    return 0;
  },
});
