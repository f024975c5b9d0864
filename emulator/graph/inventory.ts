/**
 * A generated device inventory, computed from indexes so a seed can ask for 100k devices × 20 apps (2,000,000
 * per-device rows) while memory stays flat: no row is ever stored.
 *
 * Device d has one product in each of `appsPerDevice` slots. Slot k holds M_k = min(devices, ceil(1.6^k), 20,000)
 * products; device d has product j = d mod M_k of it, in version v = floor(d / M_k) mod V (V = 1–6 versions per
 * product). So the devices of (product, version) are j + M_k·(v + V·s), s = 0, 1, …: the device counts of the
 * aggregate (`detectedApps`, AppInvAggregate) and the device lists come from arithmetic, and they agree with the
 * per-device rows (AppInvRawData) by construction. Popularity spreads from every device (slot 0) to a few.
 */
import type { Source } from "./odata.js";
import type { DetectedAppRecord, ManagedDeviceRecord } from "./repositories.js";

export interface InventoryParams {
  devices: number;
  appsPerDevice: number;
  seed: number;
}

/** 32-bit integer mix (murmur3 finaliser): deterministic, fast, no state. */
function mix(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");

const PUBLISHERS = [
  "Contoso",
  "Fabrikam",
  "Northwind",
  "Adatum",
  "Litware",
  "Tailspin",
  "Woodgrove",
  "Proseware",
  "Wingtip",
  "Lucerne",
];
const PRODUCTS = [
  "Editor",
  "Viewer",
  "Agent",
  "Runtime",
  "Studio",
  "Client",
  "Toolkit",
  "Sync",
  "Reader",
  "Player",
  "Manager",
  "Helper",
];

export interface InventoryProduct {
  /** global product index */
  p: number;
  slot: number;
  j: number;
  /** slot size M_k */
  m: number;
  versions: number;
}

/** One per-device row (AppInvRawData). */
export interface RawInventoryRow {
  device: number;
  /** aggregate (detected app) index */
  app: number;
}

const MAX_PER_SLOT = 20_000;
const ALPHA = "abcdefghijklmnopqrstuvwxyz";
/** A short letter tag (never digits: a trailing number would read as a version). */
function tag(n: number): string {
  let s = "";
  let x = n + 26;
  while (x > 0) {
    s = ALPHA[x % 26] + s;
    x = Math.floor(x / 26);
  }
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export class GeneratedInventory {
  private slotStart: Int32Array | undefined;
  private slotSize: Int32Array | undefined;
  /** per product: index of its first aggregate row; a final entry = row count */
  private firstRow: Int32Array | undefined;
  /** per aggregate row: its product */
  private rowProduct: Int32Array | undefined;

  constructor(private readonly p: InventoryParams) {}

  get deviceCount(): number {
    return this.p.devices;
  }

  /** Per-device rows (AppInvRawData): devices × appsPerDevice. */
  get rawRowCount(): number {
    return this.p.devices * this.p.appsPerDevice;
  }

  /** Aggregate rows (one per app name + version, as `detectedApps` lists them). */
  get detectedAppCount(): number {
    return this.tables().rowProduct.length;
  }

  private tables(): { slotStart: Int32Array; slotSize: Int32Array; firstRow: Int32Array; rowProduct: Int32Array } {
    if (this.slotStart && this.slotSize && this.firstRow && this.rowProduct)
      return {
        slotStart: this.slotStart,
        slotSize: this.slotSize,
        firstRow: this.firstRow,
        rowProduct: this.rowProduct,
      };
    const n = this.p.devices;
    const slots = n === 0 ? 0 : this.p.appsPerDevice;
    const slotStart = new Int32Array(slots + 1);
    const slotSize = new Int32Array(slots);
    for (let k = 0; k < slots; k++) {
      slotSize[k] = Math.min(n, Math.ceil(1.6 ** k), MAX_PER_SLOT);
      slotStart[k + 1] = (slotStart[k] ?? 0) + (slotSize[k] ?? 0);
    }
    const products = slotStart[slots] ?? 0;
    const firstRow = new Int32Array(products + 1);
    for (let q = 0; q < products; q++) {
      const pr = this.productAt(q, slotStart, slotSize);
      // versions with at least one device: j + m·v < n (a prefix of the product's versions)
      const present = Math.min(pr.versions, Math.ceil((n - pr.j) / pr.m));
      firstRow[q + 1] = (firstRow[q] ?? 0) + present;
    }
    const rowProduct = new Int32Array(firstRow[products] ?? 0);
    for (let q = 0; q < products; q++) rowProduct.fill(q, firstRow[q], firstRow[q + 1]);
    Object.assign(this, { slotStart, slotSize, firstRow, rowProduct });
    return { slotStart, slotSize, firstRow, rowProduct };
  }

  private productAt(q: number, slotStart: Int32Array, slotSize: Int32Array): InventoryProduct {
    let k = 0;
    while ((slotStart[k + 1] ?? Infinity) <= q) k++;
    const m = slotSize[k] ?? 1;
    return { p: q, slot: k, j: q - (slotStart[k] ?? 0), m, versions: 1 + (mix(q, this.p.seed ^ 0x2545f491) % 6) };
  }

  product(q: number): InventoryProduct {
    const t = this.tables();
    return this.productAt(q, t.slotStart, t.slotSize);
  }

  /** GUID whose first group encodes the index, so `{id}` routes find the row without a table. */
  deviceId(i: number): string {
    const h = mix(i, this.p.seed);
    return `${hex8(i)}-${hex8(h).slice(0, 4)}-4${hex8(h).slice(5, 8)}-8${hex8(mix(h, 1)).slice(1, 4)}-${hex8(mix(h, 2))}${hex8(mix(h, 3)).slice(0, 4)}`;
  }

  deviceIndex(id: string): number | undefined {
    const i = Number.parseInt(id.slice(0, 8), 16);
    return Number.isInteger(i) && i < this.p.devices && this.deviceId(i) === id.toLowerCase() ? i : undefined;
  }

  device(i: number): ManagedDeviceRecord {
    const h = mix(i, this.p.seed);
    const day = 86_400_000;
    return {
      id: this.deviceId(i),
      deviceName: `DESKTOP-${hex8(h).toUpperCase().slice(0, 7)}`,
      operatingSystem: "Windows",
      osVersion: `10.0.${h % 2 === 0 ? "22631" : "26100"}.${1000 + (h % 4000)}`,
      complianceState: h % 10 === 0 ? "noncompliant" : "compliant",
      managementAgent: "mdm",
      enrolledDateTime: new Date(Date.UTC(2024, 0, 1) + (h % 365) * day).toISOString(),
      lastSyncDateTime: new Date(Date.UTC(2026, 0, 1) + (h % 300) * day).toISOString(),
      azureADDeviceId: this.deviceId(i).replace(/^.{8}/, hex8(mix(h, 9))),
      serialNumber: hex8(mix(h, 5)).toUpperCase(),
      manufacturer: PUBLISHERS[h % PUBLISHERS.length],
      model: `Model ${h % 40}`,
      userPrincipalName: `user${i}@contoso.onmicrosoft.com`,
    };
  }

  /** 44-hex-character id like Intune's, index in the first 8 characters. */
  detectedAppId(i: number): string {
    const h = mix(i, this.p.seed ^ 0x5bd1e995);
    return `${hex8(i)}${hex8(h)}${hex8(mix(h, 1))}${hex8(mix(h, 2))}${hex8(mix(h, 3))}0000`;
  }

  detectedAppIndex(id: string): number | undefined {
    const i = Number.parseInt(id.slice(0, 8), 16);
    return Number.isInteger(i) && i < this.detectedAppCount && this.detectedAppId(i) === id.toLowerCase()
      ? i
      : undefined;
  }

  /** Name and publisher of product q (the same for all its versions, except a version in the name for some). */
  productName(q: number): { name: string; publisher: string } {
    const h = mix(q, this.p.seed ^ 0x68e31da4);
    const publisher = PUBLISHERS[h % PUBLISHERS.length] ?? "";
    const x64 = (h >>> 12) % 7 === 0 ? " (x64)" : "";
    return { name: `${publisher} ${PRODUCTS[(h >>> 8) % PRODUCTS.length] ?? ""} ${tag(q)}${x64}`, publisher };
  }

  /** Version v of product q: the larger v, the newer. */
  productVersion(q: number, v: number): string {
    const h = mix(q, this.p.seed ^ 0x1b873593);
    return `${(h % 20) + v}.${(h >>> 8) % 10}.${(h >>> 16) % 1000}`;
  }

  private rowOf(i: number): { q: number; v: number } {
    const t = this.tables();
    const q = t.rowProduct[i] ?? 0;
    return { q, v: i - (t.firstRow[q] ?? 0) };
  }

  productOfApp(i: number): number {
    return this.rowOf(i).q;
  }

  detectedApp(i: number): DetectedAppRecord {
    const { q, v } = this.rowOf(i);
    const { name, publisher } = this.productName(q);
    const version = this.productVersion(q, v);
    const h = mix(i, this.p.seed ^ 0x5bd1e995);
    const withVersion = mix(q, 3) % 5 === 0;
    return {
      id: this.detectedAppId(i),
      displayName: withVersion ? `${name} ${version}` : name,
      version,
      sizeInByte: (h % 500_000) * 1024,
      deviceCount: this.devicesOfAppCount(i),
      publisher,
      platform: "windows",
    };
  }

  private devicesOfAppCount(i: number): number {
    const { q, v } = this.rowOf(i);
    const pr = this.product(q);
    const first = pr.j + pr.m * v;
    return first >= this.p.devices ? 0 : Math.floor((this.p.devices - 1 - first) / (pr.m * pr.versions)) + 1;
  }

  /** The devices that have detected app `i`, computed. */
  devicesOfApp(i: number): Source<ManagedDeviceRecord> {
    const { q, v } = this.rowOf(i);
    const pr = this.product(q);
    const n = this.devicesOfAppCount(i);
    return { count: () => n, at: (s) => this.device(pr.j + pr.m * (v + pr.versions * s)) };
  }

  /** The detected app (aggregate row) that device d has in slot k. */
  appOf(d: number, k: number): number {
    const t = this.tables();
    const m = t.slotSize[k] ?? 1;
    const q = (t.slotStart[k] ?? 0) + (d % m);
    const versions = 1 + (mix(q, this.p.seed ^ 0x2545f491) % 6);
    return (t.firstRow[q] ?? 0) + (Math.floor(d / m) % versions);
  }

  /** Fills `out` (length ≥ appsPerDevice) with the detected apps of device d, slot by slot; returns how many. */
  appsOfDevice(d: number, out: Int32Array): number {
    const { slotStart, slotSize, firstRow } = this.tables();
    const slots = this.p.devices === 0 ? 0 : this.p.appsPerDevice;
    for (let k = 0; k < slots; k++) {
      const m = slotSize[k] ?? 1;
      const q = (slotStart[k] ?? 0) + (d % m);
      const versions = 1 + (mix(q, this.p.seed ^ 0x2545f491) % 6);
      out[k] = (firstRow[q] ?? 0) + (Math.floor(d / m) % versions);
    }
    return slots;
  }

  /** Every per-device row, device by device, produced lazily. */
  *rawRows(): Generator<RawInventoryRow> {
    const slots = this.p.devices === 0 ? 0 : this.p.appsPerDevice;
    for (let d = 0; d < this.p.devices; d++) for (let k = 0; k < slots; k++) yield { device: d, app: this.appOf(d, k) };
  }

  devices(): Source<ManagedDeviceRecord> {
    return { count: () => this.p.devices, at: (i) => this.device(i) };
  }

  detectedApps(): Source<DetectedAppRecord> {
    return { count: () => this.detectedAppCount, at: (i) => this.detectedApp(i) };
  }
}
