/** The inventory as this tool keeps it: one row per app name + publisher + version, with a device count. */
export interface InventoryApp {
  name: string;
  publisher: string;
  version: string;
  devices: number;
}

export type InventorySource = "detectedApps" | "export";

export interface Inventory {
  /** when it was read (ISO 8601) */
  readAt: string;
  source: InventorySource;
  /** the tenant's managed devices when counted */
  devices?: number | undefined;
  apps: InventoryApp[];
}

/**
 * A copy of `s` that shares no memory with the text it was cut from. A parser's fields are slices of its chunks of
 * text, and a kept slice (or a key joined from slices) keeps its whole chunk alive.
 */
const detached = (s: string): string => (s.length < 13 ? s : Buffer.from(s, "utf8").toString("utf8"));

/** Counts rows into apps: one entry per name + publisher + version. */
export class InventoryAggregator {
  private readonly apps = new Map<string, InventoryApp>();
  rows = 0;

  add(name: string, publisher: string, version: string, devices = 1): void {
    this.rows++;
    const key = `${name}\u0000${publisher}\u0000${version}`;
    const a = this.apps.get(key);
    if (a) a.devices += devices;
    else
      this.apps.set(detached(key), {
        name: detached(name),
        publisher: detached(publisher),
        version: detached(version),
        devices,
      });
  }

  result(): InventoryApp[] {
    return [...this.apps.values()];
  }
}
