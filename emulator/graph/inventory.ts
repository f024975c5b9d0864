/**
 * A generated device inventory: managed devices and detected apps computed from their index, so a seed can ask
 * for 100k devices and millions of detected-app rows while paging keeps memory flat (the seed's detected-app generator).
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

export class GeneratedInventory {
  constructor(private readonly p: InventoryParams) {}

  get deviceCount(): number {
    return this.p.devices;
  }

  get detectedAppCount(): number {
    return this.p.devices * this.p.appsPerDevice;
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

  detectedApp(i: number): DetectedAppRecord {
    const h = mix(i, this.p.seed ^ 0x5bd1e995);
    const publisher = PUBLISHERS[h % PUBLISHERS.length] ?? "";
    return {
      id: this.detectedAppId(i),
      displayName: `${publisher} ${PRODUCTS[(h >>> 8) % PRODUCTS.length] ?? ""} ${(i % 997) + 1}`,
      version: `${(h >>> 4) % 30}.${(h >>> 12) % 10}.${(h >>> 16) % 1000}`,
      sizeInByte: (h % 500_000) * 1024,
      deviceCount: this.devicesOfAppCount(i),
      publisher,
      platform: "windows",
    };
  }

  private devicesOfAppCount(i: number): number {
    return this.p.devices === 0 ? 0 : 1 + (mix(i, 77) % Math.min(50, this.p.devices));
  }

  /** The devices that have detected app `i`: `deviceCount` distinct devices, computed. */
  devicesOfApp(i: number): Source<ManagedDeviceRecord> {
    const n = this.devicesOfAppCount(i);
    const start = mix(i, 78) % Math.max(1, this.p.devices);
    return { count: () => n, at: (j) => this.device((start + j) % this.p.devices) };
  }

  devices(): Source<ManagedDeviceRecord> {
    return { count: () => this.p.devices, at: (i) => this.device(i) };
  }

  detectedApps(): Source<DetectedAppRecord> {
    return { count: () => this.detectedAppCount, at: (i) => this.detectedApp(i) };
  }
}
