/**
 * Managed devices and detected apps, read-only: the seed's, followed by a generated inventory when the seed asks
 * for one (inventory.ts). Pages of 1000 (docs/reference/graph-conventions.md §6.2, observed); v1.0 and beta.
 */
import { notFound } from "../errors.js";
import type { GeneratedInventory } from "../inventory.js";
import { arraySource, entityResponse } from "../odata.js";
import type { Source } from "../odata.js";
import { DEVICES_READ } from "../permissions.js";
import type { DetectedAppRecord, ManagedDeviceRecord } from "../repositories.js";
import { route } from "../routing.js";
import type { Route } from "../routing.js";
import type { GraphRequest, GraphResponse } from "../types.js";
import type { HandlerContext } from "./handler.js";
import { Handler } from "./handler.js";

const DEVICES = "/deviceManagement/managedDevices";
const DETECTED_APPS = "/deviceManagement/detectedApps";
const PAGES = { defaultPageSize: 1000, maxPageSize: 1000 };

/** Explicit items first, then generated ones. */
function concatSources<T>(a: Source<T>, b: Source<T>): Source<T> {
  return { count: () => a.count() + b.count(), at: (i) => (i < a.count() ? a.at(i) : b.at(i - a.count())) };
}

/** A detected app as Graph returns it: without the devices it was seeded with. */
function withoutDevices(app: DetectedAppRecord): DetectedAppRecord {
  const { deviceIds: _devices, ...rest } = app;
  return rest;
}

export class DeviceHandler extends Handler {
  constructor(
    ctx: HandlerContext,
    /** the generated inventory of a tenant, when the seed asks for one */
    private readonly inventory: (tenantId: string) => GeneratedInventory | undefined,
  ) {
    super(ctx);
  }

  routes(): Route[] {
    return [
      route("GET", DEVICES, DEVICES_READ, (req) => this.page(req, this.devices(req), DEVICES, PAGES)),
      route("GET", `${DEVICES}/{id}`, DEVICES_READ, (req, p) => this.device(req, p.id)),
      route("GET", DETECTED_APPS, DEVICES_READ, (req) => this.page(req, this.detectedApps(req), DETECTED_APPS, PAGES)),
      route("GET", `${DETECTED_APPS}/{id}`, DEVICES_READ, (req, p) => this.detectedApp(req, p.id)),
      route("GET", `${DETECTED_APPS}/{id}/managedDevices`, DEVICES_READ, (req, p) => this.devicesOfApp(req, p.id)),
    ];
  }

  private devices(req: GraphRequest): Source<ManagedDeviceRecord> {
    const explicit = arraySource(this.tenant(req).managedDevices.list());
    const inv = this.inventory(req.caller.tenantId);
    return inv ? concatSources(explicit, inv.devices()) : explicit;
  }

  private detectedApps(req: GraphRequest): Source<DetectedAppRecord> {
    const explicit = arraySource(this.tenant(req).detectedApps.list().map(withoutDevices));
    const inv = this.inventory(req.caller.tenantId);
    return inv ? concatSources(explicit, inv.detectedApps()) : explicit;
  }

  private device(req: GraphRequest, id: string): GraphResponse {
    const inv = this.inventory(req.caller.tenantId);
    const i = inv?.deviceIndex(id);
    const e = this.tenant(req).managedDevices.get(id) ?? (i === undefined ? undefined : inv?.device(i));
    if (!e) throw notFound(`Resource '${id}' does not exist.`);
    return entityResponse(req, e, DEVICES);
  }

  private detectedApp(req: GraphRequest, id: string): GraphResponse {
    const inv = this.inventory(req.caller.tenantId);
    const i = inv?.detectedAppIndex(id);
    const explicit = this.tenant(req).detectedApps.get(id);
    const e = explicit ? withoutDevices(explicit) : i === undefined ? undefined : inv?.detectedApp(i);
    if (!e) throw notFound(`Resource '${id}' does not exist.`);
    return entityResponse(req, e, DETECTED_APPS);
  }

  private devicesOfApp(req: GraphRequest, id: string): GraphResponse {
    const path = `${DETECTED_APPS}/${id}/managedDevices`;
    const t = this.tenant(req);
    const explicit = t.detectedApps.get(id);
    if (explicit) {
      const rows = (explicit.deviceIds ?? [])
        .map((d) => t.managedDevices.get(d))
        .filter((d): d is ManagedDeviceRecord => d !== undefined);
      return this.page(req, rows, path, PAGES);
    }
    const inv = this.inventory(req.caller.tenantId);
    const i = inv?.detectedAppIndex(id);
    if (!inv || i === undefined) throw notFound(`Resource '${id}' does not exist.`);
    return this.page(req, inv.devicesOfApp(i), path, PAGES);
  }
}
