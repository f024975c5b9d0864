/**
 * Intune throttling: sliding 20-second windows per tenant and per (tenant, app), writes counted separately from
 * all requests, per service area. Limits: docs/reference/graph-conventions.md §6.5;
 * docs/reference/graph-win32-upload.md §2.15. Each inner request of a `$batch` counts on its own
 * (docs/reference/graph-conventions.md §6.3).
 */
import type { Clock } from "../clock.js";

export interface AreaLimits {
  tenantWrites: number;
  tenantAll: number;
  appWrites: number;
  appAll: number;
}

const STANDARD: AreaLimits = { tenantWrites: 200, tenantAll: 2000, appWrites: 100, appAll: 1000 };
const DEVICES: AreaLimits = { tenantWrites: 400, tenantAll: 4000, appWrites: 200, appAll: 2000 };
export const WINDOW_MS = 20_000;

/** Service area of a Graph path (after the version); undefined = not an Intune area (e.g. directory). */
export function areaOf(path: string): { name: string; limits: AreaLimits } | undefined {
  const p = path.toLowerCase();
  if (p.startsWith("/deviceappmanagement/")) return { name: "applications", limits: STANDARD };
  if (p.startsWith("/devicemanagement/deviceenrollmentconfigurations")) return { name: "enrollment", limits: STANDARD };
  if (p.startsWith("/devicemanagement/rolescopetags")) return { name: "rbac", limits: STANDARD };
  if (p.startsWith("/devicemanagement/assignmentfilters")) return { name: "bundles", limits: STANDARD };
  if (p.startsWith("/devicemanagement/manageddevices") || p.startsWith("/devicemanagement/detectedapps"))
    return { name: "devices", limits: DEVICES };
  if (p.startsWith("/devicemanagement/")) return { name: "configuration", limits: STANDARD };
  return undefined;
}

/** Timestamps of accepted requests in the last window, oldest first. */
class Window {
  private readonly times: number[] = [];
  private head = 0;
  count(now: number): number {
    while (this.head < this.times.length && (this.times[this.head] ?? 0) <= now - WINDOW_MS) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }
  /** ms until the oldest entry leaves the window */
  waitMs(now: number): number {
    return (this.times[this.head] ?? now) + WINDOW_MS - now;
  }
  add(now: number): void {
    this.times.push(now);
  }
}

export class Throttle {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly clock: Clock) {}

  /** Forgets every window (a reset tenant starts with its full budget). */
  reset(): void {
    this.windows.clear();
  }

  private window(key: string): Window {
    let w = this.windows.get(key);
    if (!w) {
      w = new Window();
      this.windows.set(key, w);
    }
    return w;
  }

  /** Records the request, or returns the seconds to wait (Retry-After) when a limit is reached. */
  check(tenantId: string, appId: string, method: string, path: string): number | undefined {
    const area = areaOf(path);
    if (!area) return undefined;
    const now = this.clock.now();
    const write = method !== "GET" && method !== "HEAD";
    const l = area.limits;
    const keys: [string, number][] = [
      [`t|${tenantId}|${area.name}|all`, l.tenantAll],
      [`a|${tenantId}|${appId}|${area.name}|all`, l.appAll],
    ];
    if (write)
      keys.push(
        [`t|${tenantId}|${area.name}|w`, l.tenantWrites],
        [`a|${tenantId}|${appId}|${area.name}|w`, l.appWrites],
      );
    let wait = 0;
    for (const [key, limit] of keys) {
      const w = this.window(key);
      if (w.count(now) >= limit) wait = Math.max(wait, w.waitMs(now));
    }
    if (wait > 0) return Math.max(1, Math.ceil(wait / 1000));
    for (const [key] of keys) this.window(key).add(now);
    return undefined;
  }
}
