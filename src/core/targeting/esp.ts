/**
 * Enrollment Status Page membership, pure: which app ids to add to and remove
 * from each profile's `selectedMobileAppIds`, never dropping the profile's other apps. A profile the definition
 * names gets the app's current version, and loses the definition's other versions (the swap on update). A profile
 * the tool added the app to earlier (recorded in the stamp) but the definition no longer names loses every version.
 * Profiles an admin added a version to by hand are left alone, except that a superseded or deleted version is
 * swapped for (or removed in favour of) the current one.
 */
import { shortDigest } from "../app-definition/stamp.js";
import type { EspProfileWire } from "../wire/graph.js";

export type EspProfile = EspProfileWire;

/** The permission that reads and writes ESP profiles. */
export const ESP_PERMISSION = "DeviceManagementServiceConfig.ReadWrite.All";

export const espDigest = (profileId: string): string => shortDigest(`esp\n${profileId.toLowerCase()}`);

/** Per profile: ids to add and to remove (lower-case; the current app may be a placeholder until it exists). */
export interface EspChange {
  profileId: string;
  displayName: string;
  add: string[];
  remove: string[];
}

export interface EspPlanInput {
  profiles: readonly EspProfile[];
  /** profile ids the definition names; undefined = ESP membership is not managed by the definition */
  desired: ReadonlySet<string> | undefined;
  /** what the stamp recorded */
  managed: readonly string[] | undefined;
  /** the definition's app after this run (or a placeholder for an app this run creates) */
  appId: string;
  /** the definition's other versions, still in the tenant after this run (swapped out where the app is managed) */
  otherVersionIds: readonly string[];
  /** versions this run replaces (superseded now, or deleted by retention): swapped or removed everywhere */
  replacedIds: readonly string[];
}

export interface EspPlan {
  changes: EspChange[];
  /** the digests the stamp records after the change */
  managed: string[];
}

export function planEsp(i: EspPlanInput): EspPlan {
  const recorded = new Set(i.managed ?? []);
  const app = i.appId.toLowerCase();
  const others = new Set(i.otherVersionIds.map((x) => x.toLowerCase()));
  const replaced = new Set(i.replacedIds.map((x) => x.toLowerCase()));
  const changes: EspChange[] = [];
  const managed: string[] = [];
  for (const p of i.profiles) {
    const has = new Set((p.selectedMobileAppIds ?? []).map((x) => x.toLowerCase()));
    const add: string[] = [];
    const remove: string[] = [];
    const wanted = i.desired?.has(p.id) ?? false;
    const wasOurs = recorded.has(espDigest(p.id));
    if (wanted) {
      managed.push(espDigest(p.id));
      if (!has.has(app)) add.push(app);
      for (const x of has) if (x !== app && (others.has(x) || replaced.has(x))) remove.push(x);
    } else if (wasOurs && i.desired !== undefined) {
      for (const x of has) if (x === app || others.has(x) || replaced.has(x)) remove.push(x);
    } else {
      // Not ours to manage: only a version this run replaces is swapped for the current one.
      const hit = [...has].filter((x) => replaced.has(x));
      if (hit.length > 0) {
        remove.push(...hit);
        if (!has.has(app)) add.push(app);
        if (wasOurs) managed.push(espDigest(p.id));
      } else if (wasOurs && has.has(app)) managed.push(espDigest(p.id));
    }
    if (add.length > 0 || remove.length > 0) changes.push({ profileId: p.id, displayName: p.displayName, add, remove });
  }
  return { changes, managed };
}

/** The profile's next `selectedMobileAppIds`: its order kept, `remove` dropped, `add` appended. */
export function nextSelectedApps(
  current: readonly string[],
  add: readonly string[],
  remove: readonly string[],
): string[] {
  const drop = new Set(remove.map((x) => x.toLowerCase()));
  const out = current.filter((x) => !drop.has(x.toLowerCase()));
  const have = new Set(out.map((x) => x.toLowerCase()));
  for (const x of add) if (!have.has(x.toLowerCase())) out.push(x);
  return out;
}
