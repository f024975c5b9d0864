/**
 * `intune-publisher apps remove APP` (safe removal): find the app (or, with `allVersions`, every version
 * of a definition), read what links to it and what it is part of, plan every change (`src/core/plan/removal.ts`),
 * and apply it in an order Intune accepts and a re-run finishes: relationships, ESP profiles, assignments, then the
 * deletes. Everything is read and planned before the first write; a dry run stops there.
 *
 * Permissions: DeviceManagementApps.ReadWrite.All (apps, relationships, assignments);
 * DeviceManagementServiceConfig.ReadWrite.All (ESP profiles; without it ESP is skipped with a warning unless a
 * removed app's stamp records membership); GroupMember.Read.All and DeviceManagementConfiguration.Read.All for
 * assignment labels only. Reference: docs/cli.md "apps remove", docs/lifecycle.md "Removal".
 */
import type { GraphClient } from "../clients/graph/client.js";
import { GraphError } from "../clients/graph/errors.js";
import { IntuneApi } from "../clients/graph/intune.js";
import { readStamp } from "../core/app-definition/stamp.js";
import { isPublisherError, PublisherError } from "../core/errors.js";
import type { RemovalApp, RemovalPlan } from "../core/plan/removal.js";
import { appLabel, planRemoval } from "../core/plan/removal.js";
import type { TenantApp } from "../core/plan/plan.js";
import { classifyTenantApps } from "../core/plan/plan.js";
import { oneApp, resolveDefinitionId } from "../core/plan/find.js";
import { nextSelectedApps } from "../core/targeting/esp.js";
import { assignmentLabel } from "../core/targeting/assignments.js";
import { planOutgoing } from "../core/targeting/relationships.js";
import type { MobileAppAssignmentWire, Win32LobAppWire } from "../core/wire/graph.js";
import { labelNames, readEspProfiles, relationshipReader, rewriteEspApps, rewriteLinks } from "./tenant.js";

const lower = (s: string): string => s.toLowerCase();

export interface RemoveOptions {
  graph: GraphClient;
  /** an app id, a display name or a definition id; with `allVersions`, a definition id or one of its apps */
  app: string;
  /** every version of the definition */
  allVersions?: boolean;
  /** an app without our ownership stamp too */
  force?: boolean;
  /** remove the links apps without our stamp have to a removed app (else they block the removal) */
  unlinkForeign?: boolean;
  signal?: AbortSignal;
}

export interface Removal extends RemovalPlan {
  query: string;
  /** the definition whose versions are removed, with --all-versions */
  definitionId: string | null;
}

export interface RemovalResult {
  removal: Removal;
  dryRun: boolean;
}

function toRemovalApp(a: Win32LobAppWire): RemovalApp {
  const s = readStamp(a.notes);
  return {
    id: a.id,
    displayName: a.displayName,
    displayVersion: a.displayVersion ?? null,
    createdDateTime: a.createdDateTime,
    committedContentVersion: a.committedContentVersion ?? null,
    ...(s.status === "valid" ? { stamp: s.stamp } : {}),
  };
}

/** Reads everything the removal touches and plans it; no write. */
export async function planRemove(o: RemoveOptions): Promise<Removal> {
  const { signal } = o;
  const api = new IntuneApi(o.graph);
  const apps = await api.listWin32Apps(signal);
  let targets: Win32LobAppWire[];
  let definitionId: string | null = null;
  if (o.allVersions === true) {
    const tenant = classifyTenantApps(apps as unknown as TenantApp[]);
    definitionId = resolveDefinitionId(tenant, apps, o.app, "removed with --all-versions");
    const ids = new Set(tenant.owned.filter((x) => x.stamp.id === definitionId).map((x) => lower(x.app.id)));
    targets = apps.filter((a) => ids.has(lower(a.id)));
  } else {
    const app = oneApp(apps, o.app, true);
    const s = readStamp(app.notes);
    if (s.status !== "valid" && o.force !== true)
      throw new PublisherError(
        "NotOurApp",
        `The app ${app.id} (${app.displayName}) was not published by intune-publisher (${s.status === "absent" ? "no ownership stamp in its notes" : "its ownership stamp cannot be read"}); it is not removed.`,
        { hint: "Pass --force to remove it anyway." },
      );
    targets = [app];
  }

  const { read: readRelationships, known: relationships } = relationshipReader(api, signal);
  const removed = new Set(targets.map((t) => lower(t.id)));
  for (const t of targets)
    for (const r of await readRelationships(t.id))
      if (r.targetType === "parent" && !removed.has(lower(r.targetId))) await readRelationships(r.targetId);

  const held = new Map<string, MobileAppAssignmentWire[]>();
  for (const t of targets) held.set(lower(t.id), await api.listAssignments(t.id, signal));
  const names = await labelNames(api, [...held.values()].flat(), signal);
  const assignments = new Map([...held].map(([id, list]) => [id, list.map((a) => assignmentLabel(a, names))]));

  const recordsEsp = targets.some((t) => {
    const s = readStamp(t.notes);
    return s.status === "valid" && (s.stamp.esp ?? []).length > 0;
  });
  const espProfiles = await readEspProfiles(api, !recordsEsp, signal, "the removal");

  const all = new Map(apps.map((a) => [lower(a.id), toRemovalApp(a)]));
  const plan = planRemoval({
    targets: targets.map(toRemovalApp),
    apps: all,
    relationships,
    assignments,
    espProfiles,
    unlinkForeign: o.unlinkForeign === true,
  });
  if (plan.blocked.length > 0)
    throw new PublisherError(
      "ForeignLinks",
      `Intune refuses to delete an app that other apps supersede or depend on, and these links belong to apps intune-publisher did not publish: ${plan.blocked
        .map((b) => `${appLabel(all, b.appId)} ${b.text.join(" and ")}`)
        .join("; ")}. Nothing was removed.`,
      {
        hint: "Pass --unlink-foreign to remove these links from those apps too (see --dry-run), or remove them in Intune (the app's Properties > Supersedence or Dependencies) and run the removal again.",
      },
    );
  return { query: o.app, definitionId, ...plan };
}

/** The command line that finishes a stopped removal. */
function rerun(o: RemoveOptions, r: Removal): string {
  const query = r.definitionId ?? (r.apps.length === 1 ? r.apps[0]!.appId : o.app);
  return [
    "intune-publisher apps remove",
    /\s/.test(query) ? JSON.stringify(query) : query,
    o.allVersions ? "--all-versions" : "",
    o.force ? "--force" : "",
    o.unlinkForeign ? "--unlink-foreign" : "",
    "--yes",
  ]
    .filter(Boolean)
    .join(" ");
}

/**
 * The writes, in the plan's order (see src/core/plan/removal.ts). Each reads before it writes and skips what is done,
 * so a run stopped anywhere is finished by running the same command again (the error says so):
 *
 *   1. each app linking to a removed app: its outgoing set without those links (read-modify-write); then each
 *      removed app's own links cleared (`updateRelationships` with `[]`)
 *   2. each ESP profile listing a removed app: the ids taken out (GET just before, PATCH the full list)
 *   3. each removed app with assignments: `POST …/assign` with `[]`
 *   4. `DELETE` each app, newest first (a 404 counts as done)
 */
export async function applyRemoval(o: RemoveOptions, r: Removal): Promise<void> {
  const { signal } = o;
  const api = new IntuneApi(o.graph);
  const removed = new Set(r.apps.map((a) => lower(a.appId)));
  const done: string[] = [];
  let step = "";
  try {
    for (const row of r.relationships) {
      step = `remove the links of ${row.displayName} (${row.appId})`;
      const changed = await rewriteLinks(
        api,
        row.appId,
        (links) => {
          if (row.owner === "removed") return links.length > 0 ? [] : undefined;
          const p = planOutgoing(row.appId, links, { drop: removed });
          return p.changed ? p.body : undefined;
        },
        signal,
      );
      if (changed) done.push(`links of ${row.appId} removed`);
    }
    for (const c of r.esp) {
      step = `take the app out of the ESP profile "${c.displayName}"`;
      const updated = await rewriteEspApps(api, c.profileId, (ids) => nextSelectedApps(ids, [], c.remove), signal);
      if (updated === undefined) continue;
      done.push(`ESP profile "${c.displayName}" updated`);
    }
    for (const a of r.assignments) {
      step = `remove the assignments of ${a.appId}`;
      await api.assign(a.appId, [], signal);
      done.push(`${a.appId} unassigned`);
    }
    for (const a of r.apps) {
      step = `delete ${a.displayName} ${a.displayVersion} (${a.appId})`.replace("  ", " ");
      try {
        await api.deleteApp(a.appId, signal);
      } catch (e) {
        if (!(e instanceof GraphError && e.status === 404)) throw e;
      }
      done.push(`${a.appId} deleted`);
    }
  } catch (e) {
    const err = isPublisherError(e)
      ? e
      : new PublisherError("Internal", e instanceof Error ? e.message : String(e), { cause: e });
    const what = r.definitionId === null ? `${r.apps[0]?.appId ?? r.query}` : `every version of ${r.definitionId}`;
    throw new PublisherError(
      err.code,
      `Removal of ${what} stopped at "${step}": ${err.message}${done.length > 0 ? ` Done before: ${done.join("; ")}.` : " Nothing was changed."}`,
      {
        hint: `Run \`${rerun(o, r)}\` to finish it (it goes on where this run stopped).${err.hint ? ` ${err.hint}` : ""}`,
        cause: e,
        serviceCode: err.serviceCode,
      },
    );
  }
}

/** Plans the removal and, unless `dryRun`, applies it after `confirm` (when given) agrees. */
export async function removeApps(
  o: RemoveOptions & { dryRun?: boolean; confirm?: (r: Removal) => Promise<boolean> },
): Promise<RemovalResult> {
  const removal = await planRemove(o);
  const dryRun = o.dryRun === true;
  if (!dryRun) {
    if (o.confirm !== undefined && !(await o.confirm(removal)))
      throw new PublisherError("NotConfirmed", "Nothing was removed: the removal was not confirmed.");
    await applyRemoval(o, removal);
  }
  return { removal, dryRun };
}
