/**
 * Assignments, pure: a definition's assignments with their names resolved → `mobileAppAssignment` bodies;
 * an app's current assignments × the desired ones → what to add, remove, change and keep, and the whole set to
 * send, since `POST …/assign` replaces every assignment of the app (docs/reference/graph-win32-upload.md §2.12).
 *
 * Ownership: the tool records the targets it assigned in the app's stamp (`targets`, digests of `targetKey`). An
 * assignment on a target that is neither desired nor recorded was made outside the tool: it is kept, unless the
 * definition prunes. One that is recorded but no longer desired is removed.
 */
import type { AssignmentDefinition } from "../app-definition/targeting-schema.js";
import { shortDigest } from "../app-definition/stamp.js";
import type { AssignmentTargetWire, InstallIntent, MobileAppAssignmentWire } from "../wire/graph.js";
import { ODATA_TYPE } from "../wire/graph.js";

export const ALL_DEVICES_TARGET = "#microsoft.graph.allDevicesAssignmentTarget";
export const ALL_USERS_TARGET = "#microsoft.graph.allLicensedUsersAssignmentTarget";
export const GROUP_TARGET = "#microsoft.graph.groupAssignmentTarget";
export const EXCLUSION_TARGET = "#microsoft.graph.exclusionGroupAssignmentTarget";
export const SETTINGS_TYPE = "#microsoft.graph.win32LobAppAssignmentSettings";
const RESTART_TYPE = "#microsoft.graph.win32LobAppRestartSettings";
const INSTALL_TIME_TYPE = "#microsoft.graph.mobileAppInstallTimeSettings";
const AUTO_UPDATE_TYPE = "#microsoft.graph.win32LobAppAutoUpdateSettings";

/** A definition's assignment with the group and filter resolved to the tenant's ids. */
export interface ResolvedAssignment {
  definition: AssignmentDefinition;
  /** the group's object id and display name (group targets) */
  group?: { id: string; displayName: string };
  filter?: { id: string; displayName: string };
}

/** The `mobileAppAssignment` body for one resolved assignment (exclusions carry `settings: null`, §2.12). */
export function toAssignmentWire(r: ResolvedAssignment): MobileAppAssignmentWire {
  const a = r.definition;
  const filter = {
    deviceAndAppManagementAssignmentFilterId: r.filter?.id ?? null,
    deviceAndAppManagementAssignmentFilterType: r.filter ? (a.filterMode ?? "include") : ("none" as const),
  };
  let target: AssignmentTargetWire;
  if (a.target === "allDevices") target = { "@odata.type": ALL_DEVICES_TARGET, ...filter };
  else if (a.target === "allUsers") target = { "@odata.type": ALL_USERS_TARGET, ...filter };
  else
    target = {
      "@odata.type": a.exclude ? EXCLUSION_TARGET : GROUP_TARGET,
      groupId: r.group?.id ?? "",
      ...filter,
    };
  return {
    "@odata.type": ODATA_TYPE.mobileAppAssignment,
    intent: a.intent,
    target,
    settings: a.exclude ? null : settingsOf(a),
  };
}

function settingsOf(a: AssignmentDefinition): Record<string, unknown> {
  const time =
    a.availableFrom !== undefined || a.deadline !== undefined
      ? {
          "@odata.type": INSTALL_TIME_TYPE,
          useLocalTime: a.useLocalTime,
          startDateTime: a.availableFrom?.iso ?? null,
          deadlineDateTime: a.deadline?.iso ?? null,
        }
      : null;
  const restart = a.restart
    ? {
        "@odata.type": RESTART_TYPE,
        gracePeriodInMinutes: a.restart.gracePeriodMinutes,
        countdownDisplayBeforeRestartInMinutes: a.restart.countdownMinutes ?? null,
        restartNotificationSnoozeDurationInMinutes: a.restart.snoozeMinutes ?? null,
      }
    : null;
  return {
    "@odata.type": SETTINGS_TYPE,
    notifications: a.notifications ?? "showAll",
    deliveryOptimizationPriority: a.deliveryOptimizationPriority ?? "notConfigured",
    installTimeSettings: time,
    restartSettings: restart,
    autoUpdateSettings:
      a.autoUpdateSupersededApps === undefined
        ? null
        : {
            "@odata.type": AUTO_UPDATE_TYPE,
            autoUpdateSupersededAppsState: a.autoUpdateSupersededApps ? "enabled" : "notConfigured",
          },
  };
}

/** What identifies an assignment's target within one app: `group:<id>`, `exclude:<id>`, `allDevices`, `allUsers`. */
export function targetKey(t: AssignmentTargetWire): string {
  switch (t["@odata.type"]) {
    case ALL_DEVICES_TARGET:
      return "allDevices";
    case ALL_USERS_TARGET:
      return "allUsers";
    case EXCLUSION_TARGET:
      return `exclude:${(t.groupId ?? "").toLowerCase()}`;
    default:
      return `group:${(t.groupId ?? "").toLowerCase()}`;
  }
}

/** The digest of a target recorded in the stamp. */
export const targetDigest = (key: string): string => shortDigest(`target\n${key}`);

/**
 * An assignment as a comparable value: Graph fills defaults and may write dates differently, so both sides are
 * reduced to the same canonical form (defaults applied, `@odata.type`s and read-only fields dropped, dates parsed).
 */
export function canonicalAssignment(a: MobileAppAssignmentWire): string {
  const t = a.target;
  const filterType = t.deviceAndAppManagementAssignmentFilterType ?? "none";
  const s = (a.settings ?? null) as Record<string, unknown> | null;
  const obj = (v: unknown): Record<string, unknown> | null =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  const date = (v: unknown): number | null => (typeof v === "string" && v !== "" ? Date.parse(v) : null);
  const time = obj(s?.["installTimeSettings"]);
  const restart = obj(s?.["restartSettings"]);
  const auto = obj(s?.["autoUpdateSettings"]);
  const autoState = auto?.["autoUpdateSupersededAppsState"] ?? null;
  return JSON.stringify({
    intent: a.intent,
    target: targetKey(t),
    filter:
      filterType === "none"
        ? null
        : [filterType, String(t.deviceAndAppManagementAssignmentFilterId ?? "").toLowerCase()],
    settings:
      s === null
        ? null
        : {
            notifications: s["notifications"] ?? "showAll",
            priority: s["deliveryOptimizationPriority"] ?? "notConfigured",
            time:
              time === null || (date(time["startDateTime"]) === null && date(time["deadlineDateTime"]) === null)
                ? null
                : [time["useLocalTime"] === true, date(time["startDateTime"]), date(time["deadlineDateTime"])],
            restart:
              restart === null
                ? null
                : [
                    restart["gracePeriodInMinutes"] ?? null,
                    restart["countdownDisplayBeforeRestartInMinutes"] ?? null,
                    restart["restartNotificationSnoozeDurationInMinutes"] ?? null,
                  ],
            autoUpdate: autoState === null || autoState === "notConfigured" ? null : autoState,
          },
  });
}

/** The writable part of an assignment read from Graph, to send it back in an `/assign` body unchanged. */
export function writableAssignment(a: MobileAppAssignmentWire): MobileAppAssignmentWire {
  return {
    "@odata.type": ODATA_TYPE.mobileAppAssignment,
    intent: a.intent,
    target: a.target,
    settings: a.settings ?? null,
  };
}

/** One line of an assignment plan. */
export interface AssignmentRow {
  intent: InstallIntent;
  /** targetKey */
  key: string;
  /** for people: `group Pilot devices`, `all devices`, `exclude group …`, with the filter */
  label: string;
}

export interface AssignmentPlan {
  add: AssignmentRow[];
  remove: AssignmentRow[];
  /** same target, other intent, filter or settings */
  change: AssignmentRow[];
  /** made outside the tool and kept (pruneAssignments: false) */
  keptForeign: AssignmentRow[];
  /** the whole set to POST to `/assign` (desired, then kept ones as they were) */
  body: MobileAppAssignmentWire[];
  /** the digests the stamp records after the change (the desired targets) */
  managed: string[];
  /** true when `/assign` must be called */
  changed: boolean;
}

/** Names for labels: group ids → display names, filter ids → names (whatever the caller knows). */
export interface TargetNames {
  groups?: ReadonlyMap<string, string>;
  filters?: ReadonlyMap<string, string>;
  /** app ids → display names (relationship targets) */
  apps?: ReadonlyMap<string, string>;
}

export function assignmentLabel(a: MobileAppAssignmentWire, names: TargetNames = {}): string {
  const t = a.target;
  const group = (id: string | undefined) => names.groups?.get((id ?? "").toLowerCase()) ?? id ?? "";
  let who: string;
  switch (t["@odata.type"]) {
    case ALL_DEVICES_TARGET:
      who = "all devices";
      break;
    case ALL_USERS_TARGET:
      who = "all users";
      break;
    case EXCLUSION_TARGET:
      who = `exclude group ${group(t.groupId)}`;
      break;
    default:
      who = `group ${group(t.groupId)}`;
  }
  const ft = t.deviceAndAppManagementAssignmentFilterType ?? "none";
  const fid = (t.deviceAndAppManagementAssignmentFilterId ?? "").toLowerCase();
  const filter = ft === "none" ? "" : ` (filter ${names.filters?.get(fid) ?? fid}, ${ft})`;
  return `${a.intent}: ${who}${filter}`;
}

/** The plan line of one assignment. */
export function assignmentRow(a: MobileAppAssignmentWire, names: TargetNames = {}): AssignmentRow {
  return { intent: a.intent, key: targetKey(a.target), label: assignmentLabel(a, names) };
}

/**
 * Desired × current → the plan. `managed` is what the stamp recorded (undefined: nothing recorded, e.g. an app
 * created before targeting was managed, so every current assignment not desired counts as made outside the tool).
 */
export function planAssignments(
  desired: readonly MobileAppAssignmentWire[],
  current: readonly MobileAppAssignmentWire[],
  managed: readonly string[] | undefined,
  prune: boolean,
  names: TargetNames = {},
): AssignmentPlan {
  const row = (a: MobileAppAssignmentWire): AssignmentRow => assignmentRow(a, names);
  const recorded = new Set(managed ?? []);
  const want = new Map(desired.map((a) => [targetKey(a.target), a]));
  const have = new Map(current.map((a) => [targetKey(a.target), a]));
  const plan: AssignmentPlan = {
    add: [],
    remove: [],
    change: [],
    keptForeign: [],
    body: [],
    managed: [],
    changed: false,
  };
  for (const [key, a] of want) {
    const h = have.get(key);
    if (h === undefined) plan.add.push(row(a));
    else if (canonicalAssignment(h) !== canonicalAssignment(a)) plan.change.push(row(a));
    plan.body.push(a);
    plan.managed.push(targetDigest(key));
  }
  for (const [key, h] of have) {
    if (want.has(key)) continue;
    if (!prune && !recorded.has(targetDigest(key))) {
      plan.keptForeign.push(row(h));
      plan.body.push(writableAssignment(h));
    } else plan.remove.push(row(h));
  }
  plan.changed = plan.add.length + plan.remove.length + plan.change.length > 0;
  return plan;
}

/**
 * A supersede's new app: the definition's assignments, plus (carry-over copy or move) the previous version's
 * assignments on other targets, which stay "made outside the tool" on the new app.
 */
export function carriedAssignments(
  desired: readonly MobileAppAssignmentWire[],
  previous: readonly MobileAppAssignmentWire[],
  previousManaged: readonly string[] | undefined,
): MobileAppAssignmentWire[] {
  const want = new Set(desired.map((a) => targetKey(a.target)));
  const recorded = new Set(previousManaged ?? []);
  return previous
    .filter((a) => !want.has(targetKey(a.target)) && !recorded.has(targetDigest(targetKey(a.target))))
    .map(writableAssignment);
}
