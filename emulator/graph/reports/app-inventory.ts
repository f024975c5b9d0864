/**
 * The app inventory reports of Intune's export API, as CSV rows: AppInvAggregate (one row per app + version, with a
 * device count) and AppInvRawData (one row per app per device). Report names and columns: Microsoft's "Intune reports
 * and properties available using Graph API" (docs/reference/intune-reports.md). Rows come from the tenant's seeded
 * detected apps and, after them, its generated inventory, produced lazily.
 */
import type { GeneratedInventory } from "../inventory.js";
import type { DetectedAppRecord, ManagedDeviceRecord, TenantState } from "../repositories.js";

export const APP_INVENTORY_REPORTS = {
  AppInvAggregate: [
    "ApplicationKey",
    "ApplicationName",
    "ApplicationPublisher",
    "ApplicationShortVersion",
    "ApplicationVersion",
    "DeviceCount",
  ],
  AppInvRawData: [
    "ApplicationKey",
    "ApplicationName",
    "ApplicationPublisher",
    "ApplicationShortVersion",
    "ApplicationVersion",
    "DeviceId",
    "DeviceName",
    "OSDescription",
    "OSVersion",
    "Platform",
    "UserId",
    "EmailAddress",
    "UserName",
  ],
} as const;

export type AppInventoryReport = keyof typeof APP_INVENTORY_REPORTS;

export const isAppInventoryReport = (name: string): name is AppInventoryReport =>
  Object.hasOwn(APP_INVENTORY_REPORTS, name);

type Row = Record<string, string | number>;

/** The columns that describe the app (the others describe the device). */
const APP_COLUMNS: ReadonlySet<string> = new Set([
  "ApplicationKey",
  "ApplicationName",
  "ApplicationPublisher",
  "ApplicationShortVersion",
  "ApplicationVersion",
]);

/** One CSV field, always quoted (RFC 4180: quotes doubled). */
const field = (v: string | number): string => `"${String(v).replaceAll('"', '""')}"`;

function appColumns(app: DetectedAppRecord): Row {
  const version = typeof app["version"] === "string" ? app["version"] : "";
  return {
    ApplicationKey: app.id,
    ApplicationName: String(app.displayName),
    ApplicationPublisher: typeof app["publisher"] === "string" ? app["publisher"] : "",
    ApplicationShortVersion: version,
    ApplicationVersion: version,
  };
}

function deviceColumns(d: ManagedDeviceRecord | undefined, id: string): Row {
  const s = (k: string): string => (typeof d?.[k] === "string" ? (d[k] as string) : "");
  const upn = s("userPrincipalName");
  return {
    DeviceId: id,
    DeviceName: s("deviceName"),
    OSDescription: s("operatingSystem"),
    OSVersion: s("osVersion"),
    Platform: s("operatingSystem"),
    UserId: "",
    EmailAddress: upn,
    UserName: upn.split("@")[0] ?? "",
  };
}

/** The CSV lines of `report` (without line ends), lazily. */
function* lines(
  report: AppInventoryReport,
  t: TenantState,
  inv: GeneratedInventory | undefined,
  columns: readonly string[],
): Generator<string> {
  const render = (r: Row): string => columns.map((c) => field(r[c] ?? "")).join(",");
  if (report === "AppInvAggregate" || inv === undefined) {
    for (const r of rows(report, t, inv)) yield render(r);
    return;
  }
  for (const r of rows(report, t, undefined)) yield render(r);
  // The generated raw rows (millions; where the time went: bench/README.md): each app's and each device's fields
  // are quoted once, and the columns are cut into runs from one side (app or device) with their commas, so a row is
  // a few joined strings. A device's full record is built only when a selected column needs more than its id.
  const side = columns.map((c) => (APP_COLUMNS.has(c) ? "app" : "device"));
  const runs: { side: "app" | "device"; columns: string[] }[] = [];
  for (const [i, c] of columns.entries()) {
    const last = runs.at(-1);
    if (last !== undefined && last.side === side[i]) last.columns.push(c);
    else runs.push({ side: side[i] === "app" ? "app" : "device", columns: [c] });
  }
  const text = (r: Row, cs: string[]): string => cs.map((c) => field(r[c] ?? "")).join(",");
  const runsOf = (r: Row, which: "app" | "device"): string[] =>
    runs.map((run, k) => (run.side === which ? (k === 0 ? "" : ",") + text(r, run.columns) : ""));
  const deviceRecord = columns.some((c, i) => side[i] === "device" && c !== "DeviceId");
  const apps = new Map<number, string[]>();
  const slots = new Int32Array(inv.rawRowCount === 0 ? 0 : inv.rawRowCount / inv.deviceCount);
  for (let d = 0; d < inv.deviceCount; d++) {
    const id = inv.deviceId(d);
    const device = runsOf(deviceRecord ? deviceColumns(inv.device(d), id) : { DeviceId: id }, "device");
    const n = inv.appsOfDevice(d, slots);
    for (let k = 0; k < n; k++) {
      const a = slots[k] ?? 0;
      let app = apps.get(a);
      if (app === undefined) {
        app = runsOf(appColumns(inv.detectedApp(a)), "app");
        apps.set(a, app);
      }
      let line = "";
      for (let i = 0; i < runs.length; i++) line += runs[i]?.side === "app" ? app[i] : device[i];
      yield line;
    }
  }
}

/** The rows of `report`, lazily. */
function* rows(report: AppInventoryReport, t: TenantState, inv: GeneratedInventory | undefined): Generator<Row> {
  const explicit = t.detectedApps.list();
  if (report === "AppInvAggregate") {
    for (const a of explicit) yield { ...appColumns(a), DeviceCount: a.deviceIds?.length ?? 0 };
    if (inv)
      for (let i = 0; i < inv.detectedAppCount; i++)
        yield { ...appColumns(inv.detectedApp(i)), DeviceCount: inv.detectedApp(i)["deviceCount"] as number };
    return;
  }
  for (const a of explicit)
    for (const d of a.deviceIds ?? []) yield { ...appColumns(a), ...deviceColumns(t.managedDevices.get(d), d) };
  if (inv) {
    let lastDevice = -1;
    let device: Row = {};
    for (const r of inv.rawRows()) {
      if (r.device !== lastDevice) {
        lastDevice = r.device;
        device = deviceColumns(inv.device(r.device), inv.deviceId(r.device));
      }
      yield { ...appColumns(inv.detectedApp(r.app)), ...device };
    }
  }
}

export interface CsvOptions {
  /** the selected columns, in order (default: all of the report's) */
  columns: readonly string[];
  /** fault: row n (0-based, after the header) is written with an unterminated quote */
  malformedRow?: number;
}

/** The report as CSV text chunks of about 64 KiB (header first; CRLF line ends, RFC 4180). */
export function* reportCsv(
  report: AppInventoryReport,
  t: TenantState,
  inv: GeneratedInventory | undefined,
  o: CsvOptions,
): Generator<string> {
  let chunk = o.columns.map(field).join(",") + "\r\n";
  let n = 0;
  for (let line of lines(report, t, inv, o.columns)) {
    if (n === o.malformedRow) line = `"${line}`;
    chunk += line + "\r\n";
    n++;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk !== "") yield chunk;
}
