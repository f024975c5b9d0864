/**
 * Targeting in an app definition: assignments (intent, target, filter, settings), as written in the
 * definition or in a shared targeting file that many definitions reference. Graph facts:
 * docs/reference/graph-win32-upload.md §2.12; mapping to `mobileAppAssignment` bodies:
 * src/core/targeting/assignments.ts. Reference: docs/app-definitions.md.
 */
import { z } from "zod";
import { need } from "./messages.js";
import type { InstallIntent } from "../wire/graph.js";

/**
 * The intents a Win32 app takes. Graph's installIntent also has `availableWithoutEnrollment`, which Intune offers
 * for iOS/iPadOS and Android apps on devices not enrolled in Intune (Learn "Assign apps to groups", apps-deploy.md);
 * a Win32 app is assigned Required, Available for enrolled devices or Uninstall (Learn "Add, assign, and monitor a
 * Win32 app", apps-win32-add.md, step 7). Refused here with the fix rather than sent.
 */
export const INTENTS = ["required", "available", "uninstall"] as const satisfies readonly InstallIntent[];
export const WITHOUT_ENROLLMENT_MESSAGE =
  "availableWithoutEnrollment is for iOS/iPadOS and Android apps on devices not enrolled in Intune; a Win32 app installs only on enrolled devices: use available (Available for enrolled devices).";
export const NOTIFICATIONS = ["showAll", "showReboot", "hideAll"] as const;
export const DELIVERY_PRIORITIES = ["notConfigured", "foreground"] as const;
export const FILTER_MODES = ["include", "exclude"] as const;
export const BUILT_IN_TARGETS = ["allDevices", "allUsers"] as const;

/**
 * §2.12 (IntuneWin32App's Add-IntuneWin32AppAssignmentGroup.ps1): the ranges the portal and IntuneWin32App enforce.
 */
export const RESTART_LIMITS = {
  gracePeriodMinutes: { min: 1, max: 20160 },
  countdownMinutes: { min: 1, max: 240 },
  snoozeMinutes: { min: 1, max: 712 },
} as const;

/**
 * A date-time with an explicit zone (UTC) or none (device local time with useLocalTime); refuses what Date cannot
 * read. Kept as written until the assignment is checked (a zone and useLocalTime do not go together).
 */
const dateTime = (what: string) =>
  z.string({ error: `${what} must be a date and time, e.g. 2026-12-01T08:00:00Z.` }).transform((v, ctx) => {
    const text = v.trim();
    const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text);
    const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text.replace(" ", "T")}Z`);
    if (!ok || Number.isNaN(ms)) {
      ctx.addIssue({
        code: "custom",
        message: `${what} must be a date and time, e.g. 2026-12-01T08:00:00Z (UTC) or 2026-12-01T08:00 with useLocalTime.`,
      });
      return z.NEVER;
    }
    return { written: text, iso: new Date(ms).toISOString() };
  });

const minutes = (what: string, limits: { min: number; max: number }) =>
  z
    .number({ error: `${what} must be a number of minutes.` })
    .int(`${what} must be a whole number of minutes.`)
    .min(limits.min, `${what} must be at least ${limits.min}.`)
    .max(limits.max, `${what} is at most ${limits.max} minutes in Intune.`);

/** The portal's (and IntuneWin32App's) default countdown; Graph requires a value when restart settings are set. */
export const DEFAULT_COUNTDOWN_MINUTES = 15;

const restartSchema = z.strictObject(
  {
    gracePeriodMinutes: minutes("restart.gracePeriodMinutes", RESTART_LIMITS.gracePeriodMinutes).describe(
      "Restart grace period after the install, 1–20160 minutes",
    ),
    countdownMinutes: minutes("restart.countdownMinutes", RESTART_LIMITS.countdownMinutes)
      .default(DEFAULT_COUNTDOWN_MINUTES)
      .describe("Countdown dialog before the restart, 1–240 minutes (default 15, as the portal)"),
    snoozeMinutes: minutes("restart.snoozeMinutes", RESTART_LIMITS.snoozeMinutes)
      .optional()
      .describe("How long the user may snooze the restart, 1–712 minutes"),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? undefined
        : "restart must be a mapping with gracePeriodMinutes, countdownMinutes and snoozeMinutes.",
  },
);

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const isGuid = (s: string): boolean => GUID.test(s);

export const assignmentSchema = z
  .strictObject(
    {
      intent: z
        .enum(INTENTS, {
          error: (iss) =>
            iss.input === "availableWithoutEnrollment"
              ? WITHOUT_ENROLLMENT_MESSAGE
              : need("intent", `intent must be one of ${INTENTS.join(", ")}.`)(iss),
        })
        .describe("required, available or uninstall"),
      group: z
        .string({ error: "group must be text: a group's display name or object id." })
        .trim()
        .min(1, "group must not be empty.")
        .optional()
        .describe("Entra group, by display name or object id"),
      target: z
        .enum(BUILT_IN_TARGETS, { error: `target must be ${BUILT_IN_TARGETS.join(" or ")}.` })
        .optional()
        .describe("allDevices or allUsers (instead of group)"),
      exclude: z
        .boolean({ error: "exclude must be true or false." })
        .default(false)
        .describe("An exclusion group: carries no filter and no settings"),
      filter: z
        .string({ error: "filter must be text: an assignment filter's name." })
        .trim()
        .min(1, "filter must not be empty.")
        .optional()
        .describe("Assignment filter, by name"),
      filterMode: z
        .enum(FILTER_MODES, { error: "filterMode must be include or exclude." })
        .optional()
        .describe("include (default) or exclude the devices the filter matches"),
      notifications: z
        .enum(NOTIFICATIONS, { error: `notifications must be one of ${NOTIFICATIONS.join(", ")}.` })
        .optional()
        .describe("End-user notifications: showAll (default), showReboot, hideAll"),
      deliveryOptimizationPriority: z
        .enum(DELIVERY_PRIORITIES, { error: "deliveryOptimizationPriority must be notConfigured or foreground." })
        .optional()
        .describe("notConfigured (background, default) or foreground"),
      availableFrom: dateTime("availableFrom").optional().describe("When the app becomes available (ISO 8601)"),
      deadline: dateTime("deadline").optional().describe("Installation deadline (ISO 8601); required/uninstall only"),
      useLocalTime: z
        .boolean({ error: "useLocalTime must be true or false." })
        .default(false)
        .describe("Read availableFrom and deadline in the device's local time instead of UTC"),
      restart: restartSchema.optional().describe("Restart grace period, countdown and snooze"),
      autoUpdateSupersededApps: z
        .boolean({ error: "autoUpdateSupersededApps must be true or false." })
        .optional()
        .describe("available only: update devices that have a superseded version automatically"),
    },
    {
      error: (iss) =>
        iss.code === "unrecognized_keys"
          ? undefined
          : iss.input === undefined
            ? "An assignment is required."
            : "An assignment must be a mapping (intent, group or target, …).",
    },
  )
  .superRefine((a, ctx) => {
    const where = (k: string) => [k];
    if ((a.group === undefined) === (a.target === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: where(a.group === undefined ? "intent" : "target"),
        message: "An assignment names exactly one target: group (a name or id) or target (allDevices or allUsers).",
      });
    }
    if (a.exclude) {
      if (a.group === undefined)
        ctx.addIssue({
          code: "custom",
          path: where("exclude"),
          message: "Only a group can be excluded (Intune has no exclusion of all devices or all users).",
        });
      for (const k of [
        "filter",
        "filterMode",
        "notifications",
        "deliveryOptimizationPriority",
        "availableFrom",
        "deadline",
        "restart",
        "autoUpdateSupersededApps",
      ] as const) {
        if (a[k] !== undefined)
          ctx.addIssue({
            code: "custom",
            path: where(k),
            message: `An exclusion carries no settings and no filter (Intune stores none): remove ${k}.`,
          });
      }
    }
    if (a.filterMode !== undefined && a.filter === undefined)
      ctx.addIssue({ code: "custom", path: where("filterMode"), message: "filterMode needs a filter." });
    if (a.deadline !== undefined && a.intent === "available")
      ctx.addIssue({
        code: "custom",
        path: where("deadline"),
        message: `A deadline applies to required and uninstall assignments, not ${a.intent}.`,
      });
    for (const k of ["availableFrom", "deadline"] as const) {
      const raw = a[k];
      if (raw === undefined) continue;
      const zoned = /([zZ]|[+-]\d{2}:?\d{2})$/.test(raw.written);
      if (a.useLocalTime && zoned)
        ctx.addIssue({
          code: "custom",
          path: where(k),
          message: `${k} has a time zone, but useLocalTime reads it as the device's clock time: write it without a zone (e.g. 2026-12-01T08:00).`,
        });
      if (!a.useLocalTime && !zoned)
        ctx.addIssue({
          code: "custom",
          path: where(k),
          message: `${k} has no time zone: end it with Z for UTC (e.g. 2026-12-01T08:00:00Z), or set useLocalTime: true for the device's clock time.`,
        });
    }
    if (a.availableFrom !== undefined && a.deadline !== undefined && a.deadline.iso < a.availableFrom.iso)
      ctx.addIssue({ code: "custom", path: where("deadline"), message: "deadline is before availableFrom." });
    if (a.autoUpdateSupersededApps !== undefined && a.intent !== "available")
      ctx.addIssue({
        code: "custom",
        path: where("autoUpdateSupersededApps"),
        message: "autoUpdateSupersededApps applies to available assignments only.",
      });
    if (a.target === "allDevices" && a.intent === "available")
      ctx.addIssue({
        code: "custom",
        path: where("target"),
        message: `Intune offers ${a.intent} assignments to users, not to all devices: use allUsers or a user group.`,
      });
  });

export type AssignmentDefinition = z.output<typeof assignmentSchema>;

export const assignmentListSchema = z.array(assignmentSchema, {
  error: "assignments must be a list of assignments.",
});

/** A shared targeting file: the assignments many definitions reference with `targeting: <file>`. */
export const targetingFileSchema = z.strictObject(
  {
    $schema: z.string().optional(),
    assignments: assignmentListSchema.min(1, "A targeting file needs at least one assignment."),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? undefined
        : "A targeting file is a YAML mapping with an `assignments` list (docs/app-definitions.md).",
  },
);

/** What identifies an assignment's target in one app (Intune takes one assignment per target). */
export function assignmentTargetLabel(a: Pick<AssignmentDefinition, "group" | "target" | "exclude">): string {
  if (a.target !== undefined) return a.target;
  return `${a.exclude ? "exclude " : ""}group ${a.group ?? ""}`;
}

/** Duplicate targets in one list (the same group, or allDevices twice): Intune refuses them in one `/assign`. */
export function duplicateTargetProblems(
  list: readonly Pick<AssignmentDefinition, "group" | "target" | "exclude">[],
): { index: number; message: string }[] {
  const seen = new Map<string, number>();
  const out: { index: number; message: string }[] = [];
  list.forEach((a, i) => {
    const key = a.target !== undefined ? a.target : `${a.exclude ? "x" : "g"}:${(a.group ?? "").trim().toLowerCase()}`;
    const first = seen.get(key);
    if (first !== undefined)
      out.push({
        index: i,
        message: `The ${assignmentTargetLabel(a)} is assigned twice (also assignment ${first + 1}); Intune takes one assignment per target and app.`,
      });
    else seen.set(key, i);
  });
  return out;
}
