/**
 * The `apps` commands' use cases: list the tenant's win32LobApps (ours marked by their ownership stamp), show one
 * found by id, name or definition id with its assignments and relationships (removal: src/publish/remove.ts).
 */
import type { GraphClient } from "../clients/graph/client.js";
import { IntuneApi } from "../clients/graph/intune.js";
import { readStamp } from "../core/app-definition/stamp.js";
import type { StampReading } from "../core/app-definition/stamp.js";
import { oneApp } from "../core/plan/find.js";
import { classifyTenantApps, currentApp } from "../core/plan/plan.js";
import type { TenantApp } from "../core/plan/plan.js";
import type { TargetNames } from "../core/targeting/assignments.js";
import type { RelationshipRow } from "../core/targeting/relationships.js";
import type { MobileAppAssignmentWire, MobileAppCategoryWire, Win32LobAppWire } from "../core/wire/graph.js";
import { labelNames, readEspProfiles } from "./tenant.js";

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
  /**
   * Ours: the definition's current app (as publish and rollback choose it), a kept previous version, or one
   * `rollback` moved away from; "other" for apps without a valid stamp.
   */
  status: AppRole | "other";
}

export type AppRole = "current" | "kept" | "rolled back";

/** The role of each of our apps among the versions of its definition (by app id). */
export function appRoles(apps: readonly Win32LobAppWire[]): Map<string, AppRole> {
  const owned = classifyTenantApps(apps as unknown as TenantApp[]).owned;
  const roles = new Map<string, AppRole>();
  for (const id of new Set(owned.map((o) => o.stamp.id))) {
    const mine = owned.filter((o) => o.stamp.id === id);
    const current = currentApp(mine);
    for (const o of mine) roles.set(o.app.id, o === current ? "current" : o.stamp.rolledBack ? "rolled back" : "kept");
  }
  return roles;
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
    status: s.status !== "valid" ? "other" : s.stamp.rolledBack ? "rolled back" : "kept",
  };
}

export async function listApps(graph: GraphClient, signal?: AbortSignal): Promise<AppRow[]> {
  const apps = await new IntuneApi(graph).listWin32Apps(signal);
  const roles = appRoles(apps);
  return apps
    .map((a) => {
      const row = toRow(a);
      const role = roles.get(a.id);
      return role === undefined ? row : { ...row, status: role };
    })
    .sort((a, b) => a.displayName.localeCompare(b.displayName) || a.appId.localeCompare(b.appId));
}

/**
 * The one app `query` names: an app id, else a display name (case-insensitive), else a definition id from our
 * stamp. None → input error; several → usage error listing their ids. The full app (a list may leave out
 * properties such as largeIcon).
 */
export async function findApp(graph: GraphClient, query: string, signal?: AbortSignal): Promise<Win32LobAppWire> {
  const api = new IntuneApi(graph);
  return api.getApp(oneApp(await api.listWin32Apps(signal), query).id, signal);
}

export interface AppDetails {
  app: Win32LobAppWire;
  assignments: MobileAppAssignmentWire[];
  /** both directions; none on a Graph root without the beta relationships route */
  relationships: RelationshipRow[];
  /** group and filter names of the assignments, as far as the permissions allow */
  names: TargetNames;
  /** the categories linked to the app */
  categories: MobileAppCategoryWire[];
  /** scope tag id → name; empty when the app registration may not read scope tags */
  scopeTagNames: Map<string, string>;
  /** among the versions of its definition, for our apps */
  role?: AppRole;
  /** the Enrollment Status Page profiles listing the app; undefined when the app registration may not read them */
  espProfiles: { id: string; displayName: string }[] | undefined;
}

/** `apps show`: the app `query` names (as `findApp`), its assignments and its relationships. */
export async function showApp(graph: GraphClient, query: string, signal?: AbortSignal): Promise<AppDetails> {
  const api = new IntuneApi(graph);
  const all = await api.listWin32Apps(signal);
  const app = await api.getApp(oneApp(all, query).id, signal);
  const assignments = await api.listAssignments(app.id, signal);
  // Relationships are a beta route: a v1.0 Graph URL simply has none to show.
  const relationships = await api.listRelationships(app.id, signal).catch(() => [] as RelationshipRow[]);
  const names = await labelNames(api, assignments, signal);
  const categories = await api.listAppCategories(app.id, signal).catch(() => [] as MobileAppCategoryWire[]);
  // Scope tag names need DeviceManagementRBAC.Read.All: without it the ids are shown.
  const tags = await api.listScopeTags(signal).catch(() => []);
  const scopeTagNames = new Map(tags.map((t) => [t.id, t.displayName]));
  const role = appRoles(all).get(app.id);
  const esp = await readEspProfiles(api, true, signal, "apps show");
  const espProfiles = esp
    ?.filter((p) => (p.selectedMobileAppIds ?? []).some((id) => id.toLowerCase() === app.id.toLowerCase()))
    .map((p) => ({ id: p.id, displayName: p.displayName }));
  return {
    app,
    assignments,
    relationships,
    names,
    categories,
    scopeTagNames,
    espProfiles,
    ...(role === undefined ? {} : { role }),
  };
}
