/**
 * Reads and read-modify-writes the use cases share (publish, rollback, removal): permission errors that name the
 * fix, ESP profiles when the permission may be missing, labels for assignments, and the two writes Graph only
 * takes whole (an app's outgoing links, a profile's apps), each read just before it is written.
 */
import type { IntuneApi } from "../clients/graph/intune.js";
import { GraphError } from "../clients/graph/errors.js";
import { PublisherError } from "../core/errors.js";
import type { TargetNames } from "../core/targeting/assignments.js";
import { ESP_PERMISSION } from "../core/targeting/esp.js";
import { EXCLUSION_TARGET, GROUP_TARGET } from "../core/targeting/assignments.js";
import type { Link, RelationshipRow } from "../core/targeting/relationships.js";
import { outgoingLinks } from "../core/targeting/relationships.js";
import type { EspProfileWire, MobileAppAssignmentWire, MobileAppRelationshipWriteWire } from "../core/wire/graph.js";

const is403 = (e: unknown): e is GraphError => e instanceof GraphError && e.status === 403;

/** A 403 on a read the definitions need, turned into the permission and the fix. */
export function permissionError(e: unknown, what: string, permission: string, field: string): unknown {
  if (is403(e)) {
    return new PublisherError(
      "PermissionMissing",
      `Graph refused to list ${what} (403${e.requestId ? `, request-id ${e.requestId}` : ""}): the app registration needs ${permission} to resolve ${field}.`,
      {
        hint: `Grant ${permission} (application permission, admin consent) — \`intune-publisher connect setup\` prints the steps — or remove ${field} from the definitions.`,
        cause: e,
      },
    );
  }
  return e;
}

/** `read()`, or undefined when Graph refuses it (403); other errors are thrown. */
export async function unlessForbidden<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (!is403(e)) throw e;
    return undefined;
  }
}

/**
 * Every ESP profile; undefined when Graph refuses (403) and the caller may go without. `operation` names the command
 * in the permission error ("the rollback", "the removal").
 */
export async function readEspProfiles(
  api: IntuneApi,
  mayGoWithout: boolean,
  signal?: AbortSignal,
  operation = "the rollback",
): Promise<EspProfileWire[] | undefined> {
  try {
    return await api.listEspProfiles(signal);
  } catch (e) {
    if (!is403(e)) throw e;
    if (mayGoWithout) return undefined;
    throw new PublisherError(
      "PermissionMissing",
      `Graph refused to list the Enrollment Status Page profiles (403${e.requestId ? `, request-id ${e.requestId}` : ""}), and the app's ownership stamp records ESP membership: the app registration needs ${ESP_PERMISSION} for ${operation}.`,
      {
        hint: `Grant ${ESP_PERMISSION} (application permission, admin consent) — \`intune-publisher connect setup\` prints the steps — and run ${operation} again. Nothing was changed.`,
        cause: e,
      },
    );
  }
}

/** Group and filter names for labels, as far as the permissions allow (ids otherwise). */
export async function labelNames(
  api: IntuneApi,
  assignments: readonly MobileAppAssignmentWire[],
  signal?: AbortSignal,
): Promise<TargetNames> {
  const groups = new Map<string, string>();
  const filters = new Map<string, string>();
  const groupIds = new Set(
    assignments
      .filter((a) => a.target["@odata.type"] === GROUP_TARGET || a.target["@odata.type"] === EXCLUSION_TARGET)
      .map((a) => (a.target.groupId ?? "").toLowerCase())
      .filter((x) => x !== ""),
  );
  // Labels only: a refused or failed read leaves the id (a cancelled run still stops).
  const orId = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (e) {
      if (signal?.aborted) throw e;
      return undefined;
    }
  };
  for (const id of groupIds) {
    const g = await orId(() => api.getGroup(id, signal));
    if (g !== undefined) groups.set(id, g.displayName);
  }
  if (assignments.some((a) => (a.target.deviceAndAppManagementAssignmentFilterType ?? "none") !== "none"))
    for (const f of (await orId(() => api.listAssignmentFilters(signal))) ?? [])
      filters.set(f.id.toLowerCase(), f.displayName);
  return { groups, filters };
}

/** Each app's `GET …/relationships`, read once (lower-case ids); `known` holds what was read. */
export function relationshipReader(
  api: IntuneApi,
  signal?: AbortSignal,
): { read(appId: string): Promise<RelationshipRow[]>; known: Map<string, RelationshipRow[]> } {
  const known = new Map<string, RelationshipRow[]>();
  return {
    known,
    async read(appId) {
      const id = appId.toLowerCase();
      const cached = known.get(id);
      if (cached !== undefined) return cached;
      const rows = await api.listRelationships(appId, signal);
      known.set(id, rows);
      return rows;
    },
  };
}

/**
 * Read-modify-write of one app's outgoing links: `change` gets them as Graph has them now and answers the whole
 * new set, or undefined for no change. True when something was written.
 */
export async function rewriteLinks(
  api: IntuneApi,
  appId: string,
  change: (links: Link[]) => MobileAppRelationshipWriteWire[] | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  const rows = await api.listRelationships(appId, signal);
  const next = change(outgoingLinks(appId, rows));
  if (next === undefined) return false;
  await api.updateRelationships(appId, next, signal);
  return true;
}

/**
 * Read-modify-write of one ESP profile's apps: `change` gets `selectedMobileAppIds` as Graph has them now and
 * answers the whole new list, or undefined for no change. The profile when something was written.
 */
export async function rewriteEspApps(
  api: IntuneApi,
  profileId: string,
  change: (ids: string[]) => string[] | undefined,
  signal?: AbortSignal,
): Promise<EspProfileWire | undefined> {
  const profile = await api.getEspProfile(profileId, signal);
  const before = [...(profile.selectedMobileAppIds ?? [])];
  const next = change(before);
  if (next === undefined || JSON.stringify(next) === JSON.stringify(before)) return undefined;
  await api.setEspProfileApps(profile, next, signal);
  return profile;
}
