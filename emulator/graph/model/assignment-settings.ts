// `win32LobAppAssignmentSettings` as Graph (beta) deserializes, validates and stores it:
// docs/reference/graph-win32-upload.md §2.12 (property list, nested types) and §4 item 23 (enum checks). Two stages, as
// in win32LobApp.ts: model deserialization (unknown properties, JSON kinds, enum literals, nested @odata.type) → 400
// ModelValidationFailure with ODataLib wording; then Intune's rules (ranges, deadline after start) → 400 BadRequest.
//
// On store Graph fills what the body left out, so a GET returns the full shape: `notifications: "showAll"`,
// `deliveryOptimizationPriority: "notConfigured"` and null for the three nested objects (§2.12 example and
// IntuneWin32App's request body, which sends exactly these defaults); nested objects get their `@odata.type` and
// null for their nullable members.
import { GraphError } from "../errors.js";
import { unknownPropertyMessage } from "./win32LobApp.js";

export const SETTINGS_TYPE = "#microsoft.graph.win32LobAppAssignmentSettings";
export const RESTART_SETTINGS_TYPE = "#microsoft.graph.win32LobAppRestartSettings";
export const INSTALL_TIME_SETTINGS_TYPE = "#microsoft.graph.mobileAppInstallTimeSettings";
export const AUTO_UPDATE_SETTINGS_TYPE = "#microsoft.graph.win32LobAppAutoUpdateSettings";

/**
 * Ranges IntuneWin32App enforces before sending (Add-IntuneWin32AppAssignmentGroup.ps1 `ValidateRange`, §2.12).
 * UNCONFIRMED as a server rule: the Graph docs give no range; the emulator enforces them (strict default).
 */
export const RESTART_RANGES = {
  gracePeriodInMinutes: [1, 20160],
  countdownDisplayBeforeRestartInMinutes: [1, 240],
  restartNotificationSnoozeDurationInMinutes: [1, 712],
} as const;

export interface RestartSettings {
  "@odata.type": typeof RESTART_SETTINGS_TYPE;
  gracePeriodInMinutes: number;
  countdownDisplayBeforeRestartInMinutes: number;
  restartNotificationSnoozeDurationInMinutes: number | null;
}

export interface InstallTimeSettings {
  "@odata.type": typeof INSTALL_TIME_SETTINGS_TYPE;
  useLocalTime: boolean;
  startDateTime: string | null;
  deadlineDateTime: string | null;
}

export interface AutoUpdateSettings {
  "@odata.type": typeof AUTO_UPDATE_SETTINGS_TYPE;
  autoUpdateSupersededAppsState: "notConfigured" | "enabled" | "unknownFutureValue";
}

export interface Win32LobAppAssignmentSettings {
  "@odata.type": typeof SETTINGS_TYPE;
  notifications: "showAll" | "showReboot" | "hideAll";
  restartSettings: RestartSettings | null;
  installTimeSettings: InstallTimeSettings | null;
  deliveryOptimizationPriority: "notConfigured" | "foreground";
  autoUpdateSettings: AutoUpdateSettings | null;
}

const API = "microsoft.management.services.api.";
const NOTIFICATIONS = ["showAll", "showReboot", "hideAll"] as const;
const DO_PRIORITIES = ["notConfigured", "foreground"] as const;
const AUTO_UPDATE_STATES = ["notConfigured", "enabled", "unknownFutureValue"] as const;

const model = (message: string): GraphError => new GraphError(400, "ModelValidationFailure", message);
const rule = (message: string): GraphError => new GraphError(400, "BadRequest", message);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** ODataLib wording (as in win32LobApp.ts): null in a non-nullable property. */
function nullMessage(edm: string, property: string): string {
  const t = `${edm}[Nullable=False]`;
  return `A null value was found for the property named '${property}', which has the expected type '${t}'. The expected type '${t}' does not allow null values.`;
}

/** ODataLib wording: a value of the wrong JSON kind for a primitive property. */
function primitiveMessage(input: unknown, edm: string, property: string): string {
  if (input === null) return nullMessage(edm, property);
  if (Array.isArray(input))
    return "An unexpected 'StartArray' node was found when reading from the JSON reader. A 'PrimitiveValue' node was expected.";
  if (typeof input === "object")
    return "An unexpected 'StartObject' node was found when reading from the JSON reader. A 'PrimitiveValue' node was expected.";
  return `Cannot convert the literal '${String(input)}' to the expected type '${edm}'.`;
}

/** §2.1 wording for a wrong @odata.type on a typed value. */
function incompatible(given: unknown, expected: string): string {
  return `A value was encountered that has a type name that is incompatible with the metadata. The value specified its type as '${String(given)}', but the type specified in the metadata is '${expected.replace(/^#/, "")}'.`;
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], typeName: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw model(unknownPropertyMessage(k, typeName));
}

function checkType(o: Record<string, unknown>, expected: string): void {
  const t = o["@odata.type"];
  if (t !== undefined && t !== expected) throw model(incompatible(t, expected));
}

function enumValue<T extends string>(v: unknown, values: readonly T[], typeName: string, property: string): T {
  if (typeof v === "string") {
    // Enum.Parse wording, case-sensitive literals (§2.1, §2.2).
    if ((values as readonly string[]).includes(v)) return v as T;
    throw model(`Requested value '${v}' was not found.`);
  }
  throw model(primitiveMessage(v, `${API}${typeName}`, property));
}

/** Absent → the default Graph stores; an explicit null stays null (and is refused where non-nullable). */
/** An enum-typed property of `o`, or its default when absent. */
function enumProperty<T extends string>(
  o: Record<string, unknown>,
  property: string,
  fallback: T,
  values: readonly T[],
  typeName: string,
): T {
  return enumValue(o[property] === undefined ? fallback : o[property], values, typeName, property);
}

/** A complex-typed property: an object or null, else the ODataLib "StartObject expected" message. */
function complex(v: unknown): Record<string, unknown> | null {
  if (v === null || v === undefined) return null;
  if (isObject(v)) return v;
  const found = Array.isArray(v) ? "StartArray" : "PrimitiveValue";
  throw model(
    `An unexpected '${found}' node was found when reading from the JSON reader. A 'StartObject' node was expected.`,
  );
}

function int32(v: unknown, property: string, nullable: boolean): number | null {
  if (v === null && nullable) return null;
  if (typeof v === "number" && Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 31 - 1) return v;
  throw model(primitiveMessage(v, "Edm.Int32", property));
}

/** Edm.DateTimeOffset in OData JSON: ISO 8601 with `Z` or an offset (a date-time without one is refused). */
const DATE_TIME_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/i;

function dateTimeOffset(v: unknown, property: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" && DATE_TIME_OFFSET.test(v) && !Number.isNaN(Date.parse(v))) return v;
  throw model(primitiveMessage(v, "Edm.DateTimeOffset", property));
}

function restartSettings(v: unknown): RestartSettings | null {
  const o = complex(v);
  if (o === null) return null;
  checkKeys(o, ["@odata.type", ...Object.keys(RESTART_RANGES)], "win32LobAppRestartSettings");
  checkType(o, RESTART_SETTINGS_TYPE);
  // gracePeriod and countdown are non-nullable Int32; the snooze is nullable (§2.12: "(nullable)").
  // Absent non-nullable members would deserialize as 0, outside the ranges below: said plainly instead.
  for (const k of ["gracePeriodInMinutes", "countdownDisplayBeforeRestartInMinutes"])
    if (o[k] === undefined) throw rule(`restartSettings needs '${k}'.`);
  const grace = int32(o["gracePeriodInMinutes"], "gracePeriodInMinutes", false) as number;
  const countdown = int32(
    o["countdownDisplayBeforeRestartInMinutes"],
    "countdownDisplayBeforeRestartInMinutes",
    false,
  ) as number;
  const snooze = int32(
    o["restartNotificationSnoozeDurationInMinutes"] ?? null,
    "restartNotificationSnoozeDurationInMinutes",
    true,
  );
  const values = {
    gracePeriodInMinutes: grace,
    countdownDisplayBeforeRestartInMinutes: countdown,
    restartNotificationSnoozeDurationInMinutes: snooze,
  };
  // UNCONFIRMED as a server rule: IntuneWin32App's ValidateRange (see RESTART_RANGES).
  for (const [k, [min, max]] of Object.entries(RESTART_RANGES)) {
    const n = values[k as keyof typeof values];
    if (n !== null && (n < min || n > max)) throw rule(`${k} must be between ${min} and ${max} minutes (got ${n}).`);
  }
  return { "@odata.type": RESTART_SETTINGS_TYPE, ...values };
}

function installTimeSettings(v: unknown): InstallTimeSettings | null {
  const o = complex(v);
  if (o === null) return null;
  checkKeys(o, ["@odata.type", "useLocalTime", "startDateTime", "deadlineDateTime"], "mobileAppInstallTimeSettings");
  checkType(o, INSTALL_TIME_SETTINGS_TYPE);
  const local = o["useLocalTime"] === undefined ? false : o["useLocalTime"];
  if (typeof local !== "boolean") throw model(primitiveMessage(local, "Edm.Boolean", "useLocalTime"));
  const start = dateTimeOffset(o["startDateTime"], "startDateTime");
  const deadline = dateTimeOffset(o["deadlineDateTime"], "deadlineDateTime");
  // The admin center refuses a deadline before the availability time; the Graph's answer is UNCONFIRMED.
  if (start !== null && deadline !== null && Date.parse(deadline) < Date.parse(start))
    throw rule(`deadlineDateTime (${deadline}) must not be before startDateTime (${start}).`);
  return {
    "@odata.type": INSTALL_TIME_SETTINGS_TYPE,
    useLocalTime: local,
    startDateTime: start,
    deadlineDateTime: deadline,
  };
}

function autoUpdateSettings(v: unknown): AutoUpdateSettings | null {
  const o = complex(v);
  if (o === null) return null;
  checkKeys(o, ["@odata.type", "autoUpdateSupersededAppsState"], "win32LobAppAutoUpdateSettings");
  checkType(o, AUTO_UPDATE_SETTINGS_TYPE);
  const state = enumProperty(
    o,
    "autoUpdateSupersededAppsState",
    "notConfigured",
    AUTO_UPDATE_STATES,
    "win32LobAppAutoUpdateSupersededAppsState",
  );
  return { "@odata.type": AUTO_UPDATE_SETTINGS_TYPE, autoUpdateSupersededAppsState: state };
}

/**
 * Validates `settings` of a mobileAppAssignment and returns what Graph stores (and a GET returns): every property,
 * defaults filled. Throws the GraphError Graph would answer.
 */
export function normalizeAssignmentSettings(raw: unknown): Win32LobAppAssignmentSettings {
  const s = complex(raw);
  if (s === null) throw model("'settings' must be an object.");
  // `settings` is typed as the abstract mobileAppAssignmentSettings, which has no properties of its own: without
  // `@odata.type` ODataLib reads the object as that type, so its first property is unknown (or, when empty, the
  // abstract type cannot be created) — the same 400 as a derived-type rule without `@odata.type` (win32LobApp.ts).
  if (s["@odata.type"] === undefined) {
    const first = Object.keys(s)[0];
    throw model(
      first !== undefined
        ? unknownPropertyMessage(first, "mobileAppAssignmentSettings")
        : `An instance of the abstract type '${API}mobileAppAssignmentSettings' cannot be created: specify '@odata.type' with a concrete derived type.`,
    );
  }
  checkKeys(
    s,
    [
      "@odata.type",
      "notifications",
      "restartSettings",
      "installTimeSettings",
      "deliveryOptimizationPriority",
      "autoUpdateSettings",
    ],
    "win32LobAppAssignmentSettings",
  );
  checkType(s, SETTINGS_TYPE);
  return {
    "@odata.type": SETTINGS_TYPE,
    notifications: enumProperty(s, "notifications", "showAll", NOTIFICATIONS, "win32LobAppNotification"),
    restartSettings: restartSettings(s["restartSettings"]),
    installTimeSettings: installTimeSettings(s["installTimeSettings"]),
    deliveryOptimizationPriority: enumProperty(
      s,
      "deliveryOptimizationPriority",
      "notConfigured",
      DO_PRIORITIES,
      "win32LobAppDeliveryOptimizationPriority",
    ),
    autoUpdateSettings: autoUpdateSettings(s["autoUpdateSettings"]),
  };
}
