/**
 * Finding what the user named on the command line, pure: one app by id, name or definition id (`apps show`,
 * `apps remove`), or a definition by id, app id or name (`rollback`, `apps remove --all-versions`).
 */
import { readStamp } from "../app-definition/stamp.js";
import { PublisherError } from "../errors.js";
import type { Win32LobAppWire } from "../wire/graph.js";
import type { TenantState } from "./plan.js";

/**
 * The one app `query` names: an app id, else a display name (case-insensitive), else a definition id from our
 * stamp. None → input error; several → usage error listing them (with `allVersions`, a hint naming
 * `--all-versions` when they are the versions of one definition).
 */
export function oneApp(apps: readonly Win32LobAppWire[], query: string, allVersions = false): Win32LobAppWire {
  const q = query.toLowerCase();
  const byId = apps.filter((a) => a.id.toLowerCase() === q);
  const byName = apps.filter((a) => a.displayName.toLowerCase() === q);
  const byDefinition = apps.filter((a) => definitionOf(a) === query);
  const matches = byId.length > 0 ? byId : byName.length > 0 ? byName : byDefinition;
  if (matches.length === 0)
    throw new PublisherError("AppNotFound", `No win32LobApp has the id, name or definition id "${query}".`, {
      hint: "Run `intune-publisher apps list` to see the apps and their ids.",
    });
  if (matches.length > 1) {
    const defs = new Set(matches.map((a) => definitionOf(a) ?? ""));
    const def = allVersions && defs.size === 1 && !defs.has("") ? [...defs][0] : undefined;
    throw new PublisherError(
      "AmbiguousApp",
      `"${query}" names ${matches.length} apps: ${matches.map((a) => `${a.id} (${a.displayName} ${a.displayVersion ?? ""})`.trim()).join(", ")}.`,
      {
        hint:
          def === undefined
            ? "Give the app id instead."
            : `They are versions of ${def}: give one app id, or pass --all-versions to remove every version of ${def}.`,
      },
    );
  }
  return matches[0]!;
}

/** The definition id of an app with our valid stamp. */
function definitionOf(a: Win32LobAppWire): string | undefined {
  const s = readStamp(a.notes);
  return s.status === "valid" ? s.stamp.id : undefined;
}

/**
 * APP → definition id: a definition id, else the app id, else the display name of one of our stamped apps. `done`
 * completes "only apps intune-publisher published can be …" in the not-found message.
 */
export function resolveDefinitionId(
  tenant: TenantState,
  apps: readonly Win32LobAppWire[],
  query: string,
  done = "rolled back",
): string {
  const ids = [...new Set(tenant.owned.map((o) => o.stamp.id))].sort();
  if (ids.includes(query)) return query;
  const q = query.toLowerCase();
  const byApp = tenant.owned.filter((o) => o.app.id.toLowerCase() === q);
  if (byApp.length > 0) return byApp[0]!.stamp.id;
  const byName = [
    ...new Set(tenant.owned.filter((o) => (o.app.displayName ?? "").toLowerCase() === q).map((o) => o.stamp.id)),
  ];
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1)
    throw new PublisherError(
      "AmbiguousApp",
      `"${query}" is the name of apps of ${byName.length} definitions: ${byName.join(", ")}.`,
      { hint: "Give the definition id instead." },
    );
  const foreign = apps.find((a) => a.id.toLowerCase() === q || a.displayName.toLowerCase() === q);
  const why = foreign
    ? ` The app ${foreign.id} (${foreign.displayName}) has no valid intune-publisher ownership stamp: only apps intune-publisher published can be ${done}.`
    : "";
  throw new PublisherError(
    "AppNotFound",
    `No app published by intune-publisher has the definition id, app id or name "${query}".${why} Definition ids in the tenant: ${ids.length > 0 ? ids.join(", ") : "none"}.`,
    { hint: "Run `intune-publisher apps list` to see the apps and their definition ids." },
  );
}
