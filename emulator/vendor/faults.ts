/** The vendor host's faults: which apply to a request, and how many requests each may still affect. */
import { randomUUID } from "node:crypto";
import { parseVendorFault } from "./seed.js";
import type { VendorFault, VendorFaultInput } from "./seed.js";

interface Active {
  id: string;
  fault: VendorFault;
  pattern: RegExp | undefined;
  remaining: number;
}

/** What a request is: its path, and the installer it names when it names one. */
export interface FaultTarget {
  path: string;
  product?: string;
  version?: string;
}

export class VendorFaults {
  private active: Active[] = [];

  add(input: VendorFaultInput | VendorFault): string {
    const fault = parseVendorFault(input);
    const id = randomUUID();
    this.active.push({
      id,
      fault,
      pattern: fault.path === undefined ? undefined : new RegExp(fault.path),
      remaining: fault.count ?? Number.POSITIVE_INFINITY,
    });
    return id;
  }

  clear(): void {
    this.active = [];
  }

  list(): { id: string; fault: VendorFault; remaining: number | null }[] {
    return this.active.map((a) => ({
      id: a.id,
      fault: a.fault,
      remaining: Number.isFinite(a.remaining) ? a.remaining : null,
    }));
  }

  /**
   * The faults that apply to this request, one per kind (the oldest), each counted as used. A fault naming a
   * product matches that product's installers; one with `path` matches any route whose path it matches; one
   * with neither matches every installer.
   */
  take(target: FaultTarget): Map<VendorFault["kind"], VendorFault> {
    const out = new Map<VendorFault["kind"], VendorFault>();
    for (const a of this.active) {
      if (a.remaining <= 0 || out.has(a.fault.kind)) continue;
      const f = a.fault;
      if (f.product !== undefined) {
        if (target.product?.toLowerCase() !== f.product.toLowerCase()) continue;
        if (f.version !== undefined && target.version !== f.version) continue;
      } else if (a.pattern === undefined && target.product === undefined) continue;
      if (a.pattern !== undefined && !a.pattern.test(target.path)) continue;
      a.remaining--;
      out.set(f.kind, f);
    }
    this.active = this.active.filter((a) => a.remaining > 0);
    return out;
  }
}
