/**
 * The `apps` commands' use cases: list the tenant's win32LobApps (ours marked by their ownership stamp), find one
 * by id, name or definition id (removal: src/publish/remove.ts).
 */
import type { GraphClient } from "../clients/graph/client.js";
import { readStamp } from "../core/app-definition/stamp.js";
import type { StampReading } from "../core/app-definition/stamp.js";
import { PublisherError } from "../core/errors.js";
import type { Win32LobAppWire } from "../core/wire/graph.js";
import { listWin32Apps, MOBILE_APPS } from "./publish.js";

export interface AppRow {
  appId: string;
  displayName: string;
  publisher: string;
  displayVersion: string;
  publishingState: string;
  committedContentVersion: string | null;
  createdDateTime: string;
  /** the definition id when the app carries our stamp */
  definitionId: string | undefined;
  stamp: StampReading["status"];
}

export function toRow(a: Win32LobAppWire): AppRow {
  const s = readStamp(a.notes);
  return {
    appId: a.id,
    displayName: a.displayName,
    publisher: a.publisher ?? "",
    displayVersion: a.displayVersion ?? "",
    publishingState: a.publishingState,
    committedContentVersion: a.committedContentVersion ?? null,
    createdDateTime: a.createdDateTime,
    definitionId: s.status === "valid" ? s.stamp.id : undefined,
    stamp: s.status,
  };
}

export async function listApps(graph: GraphClient, signal?: AbortSignal): Promise<AppRow[]> {
  const apps = await listWin32Apps(graph, signal);
  return apps.map(toRow).sort((a, b) => a.displayName.localeCompare(b.displayName) || a.appId.localeCompare(b.appId));
}

/**
 * The one app `query` names: an app id, else a display name (case-insensitive), else a definition id from our
 * stamp. None → input error; several → usage error listing their ids.
 */
export async function findApp(graph: GraphClient, query: string, signal?: AbortSignal): Promise<Win32LobAppWire> {
  const apps = await listWin32Apps(graph, signal);
  const q = query.toLowerCase();
  const byId = apps.filter((a) => a.id.toLowerCase() === q);
  const byName = apps.filter((a) => a.displayName.toLowerCase() === q);
  const byDefinition = apps.filter((a) => {
    const s = readStamp(a.notes);
    return s.status === "valid" && s.stamp.id === query;
  });
  const matches = byId.length > 0 ? byId : byName.length > 0 ? byName : byDefinition;
  if (matches.length === 0)
    throw new PublisherError("input", "AppNotFound", `No win32LobApp has the id, name or definition id "${query}".`, {
      hint: "Run `intune-publisher apps list` to see the apps and their ids.",
    });
  if (matches.length > 1)
    throw new PublisherError(
      "usage",
      "AmbiguousApp",
      `"${query}" names ${matches.length} apps: ${matches.map((a) => `${a.id} (${a.displayName} ${a.displayVersion ?? ""})`.trim()).join(", ")}.`,
      { hint: "Give the app id instead." },
    );
  // The full app (a list may leave out properties such as largeIcon).
  return graph.get<Win32LobAppWire>(`${MOBILE_APPS}/${encodeURIComponent(matches[0]!.id)}`, {
    ...(signal === undefined ? {} : { signal }),
  });
}
