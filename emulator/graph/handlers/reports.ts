/**
 * Intune's reports export API for the app inventory reports (`deviceManagement/reports/exportJobs`): POST creates a
 * job, GET `exportJobs('{id}')` polls it. A job moves notStarted → inProgress → completed (or failed) with
 * configurable delays on the injected clock; its result is a real zip holding one CSV, written to the embedded
 * storage while the job runs and served through a read-only SAS URL that expires. Faults make a job fail, stay in
 * progress, deliver a truncated zip or a malformed row, or hand out an expired URL. Facts:
 * docs/reference/intune-reports.md.
 */
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Entity } from "../../store.js";
import { badRequest, notFound } from "../errors.js";
import type { GeneratedInventory } from "../inventory.js";
import { DEVICES_READ } from "../permissions.js";
import { APP_INVENTORY_REPORTS, isAppInventoryReport, reportCsv } from "../reports/app-inventory.js";
import type { AppInventoryReport } from "../reports/app-inventory.js";
import { zipStream } from "../reports/zip-stream.js";
import { route } from "../routing.js";
import type { Route } from "../routing.js";
import type { GraphRequest, GraphResponse } from "../types.js";
import type { HandlerContext } from "./handler.js";
import { Handler } from "./handler.js";
import { isObject } from "./mobile-apps.js";

const BASE = "/deviceManagement/reports/exportJobs";
const CONTAINER = "reports";

export interface ExportJobOptions {
  /** how long a new job stays notStarted */
  startDelayMs: number;
  /** then how long it stays inProgress at least (longer while its zip is being written) */
  runDelayMs: number;
  /** how long the download URL of a completed job works */
  urlValidityMs: number;
}

export const DEFAULT_EXPORT_JOB_OPTIONS: ExportJobOptions = {
  startDelayMs: 200,
  runDelayMs: 300,
  urlValidityMs: 60 * 60 * 1000,
};

export const EXPORT_JOB_FAULTS = ["fail", "stuck", "truncatedZip", "expiredUrl", "malformedRow"] as const;
export type ExportJobFault = (typeof EXPORT_JOB_FAULTS)[number];

/** What the jobs need of the embedded storage. */
export interface ReportStorage {
  putBlob(container: string, blobName: string, body: Readable): Promise<void>;
  readUrl(container: string, blobName: string, expiresOn: Date): string;
}

export interface ExportJobRecord extends Entity {
  reportName: AppInventoryReport;
  format: "csv";
  select: string[];
  filter: string | null;
  localizationType: string;
  requestDateTime: string;
  createdMs: number;
  fault: ExportJobFault | null;
  written: "pending" | "done" | "error";
  url: string | null;
  expirationDateTime: string;
}

export class ReportHandler extends Handler {
  /** settings in force (the admin API changes them) */
  readonly options: ExportJobOptions;
  private readonly faults: ExportJobFault[] = [];
  private readonly writes = new Set<Promise<void>>();

  constructor(
    ctx: HandlerContext,
    private readonly storage: ReportStorage | undefined,
    private readonly inventory: (tenantId: string) => GeneratedInventory | undefined,
    options: Partial<ExportJobOptions> = {},
  ) {
    super(ctx);
    this.options = { ...DEFAULT_EXPORT_JOB_OPTIONS, ...options };
  }

  routes(): Route[] {
    return [
      route("POST", BASE, DEVICES_READ, (req) => this.create(req)),
      route("GET", `${BASE}/{id}`, DEVICES_READ, (req, p) => this.get(req, p.id)),
      // `exportJobs('{id}')`, the form Microsoft's documentation uses: one path segment
      route("GET", "/deviceManagement/reports/{key}", DEVICES_READ, (req, p) => {
        const m = /^exportJobs\('([^']+)'\)$/i.exec(p.key);
        if (!m?.[1]) throw notFound(`The local tenant has no route GET /deviceManagement/reports/${p.key}.`);
        return this.get(req, m[1]);
      }),
    ];
  }

  /** The next jobs created get these faults, one each. */
  addFault(fault: ExportJobFault): void {
    if (!EXPORT_JOB_FAULTS.includes(fault)) throw new Error(`Unknown export job fault ${JSON.stringify(fault)}.`);
    this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** resolves when every report write started so far has finished */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  private create(req: GraphRequest): GraphResponse {
    const b = req.body;
    if (!isObject(b)) throw badRequest("A JSON object body is required.");
    const name = b["reportName"];
    if (typeof name !== "string" || name === "") throw badRequest("reportName is required.");
    if (!isAppInventoryReport(name))
      throw badRequest(
        `The local tenant emulates the export of ${Object.keys(APP_INVENTORY_REPORTS).join(" and ")} only, not '${name}'.`,
      );
    const format = b["format"] ?? "csv";
    if (format !== "csv")
      throw badRequest(`format '${String(format)}': the local tenant writes csv only (Intune also writes json).`);
    const columns: readonly string[] = APP_INVENTORY_REPORTS[name];
    let select = [...columns];
    if (b["select"] !== undefined && b["select"] !== null) {
      const s = b["select"];
      if (!Array.isArray(s) || s.some((c) => typeof c !== "string"))
        throw badRequest("select must be an array of column names.");
      if (s.length > 256) throw badRequest("select names at most 256 columns.");
      select = s.map((c: string) => {
        const known = columns.find((k) => k.toLowerCase() === c.toLowerCase());
        if (known === undefined) throw badRequest(`Invalid select column '${c}' for report ${name}.`);
        return known;
      });
    }
    const filter = b["filter"];
    if (typeof filter === "string" && filter.trim() !== "") throw badRequest(`The report ${name} has no filters.`);
    const id = `${name}_${randomUUID()}`;
    const now = this.ctx.clock.now();
    const job: ExportJobRecord = {
      id,
      reportName: name,
      format: "csv",
      select,
      filter: null,
      localizationType:
        typeof b["localizationType"] === "string" ? b["localizationType"] : "localizedValuesAsAdditionalColumn",
      requestDateTime: new Date(now).toISOString(),
      createdMs: now,
      fault: this.faults.shift() ?? null,
      written: "pending",
      url: null,
      expirationDateTime: new Date(now + this.options.urlValidityMs).toISOString(),
    };
    const t = this.tenant(req);
    t.exportJobs.put(job);
    this.write(req.caller.tenantId, job);
    return { status: 201, body: this.wire(req, job) };
  }

  private write(tenantId: string, job: ExportJobRecord): void {
    const done = (written: ExportJobRecord["written"]): void => {
      const t = this.ctx.state.tenant(tenantId);
      const current = t.exportJobs.get(job.id);
      if (current) t.exportJobs.put({ ...current, written });
    };
    if (!this.storage) {
      done("error");
      return;
    }
    const csv = reportCsv(job.reportName, this.ctx.state.tenant(tenantId), this.inventory(tenantId), {
      columns: job.select,
      ...(job.fault === "malformedRow" ? { malformedRow: 0 } : {}),
    });
    const zip = zipStream(`${job.id}.csv`, csv, {
      now: new Date(job.createdMs),
      truncated: job.fault === "truncatedZip",
    });
    const p = this.storage.putBlob(CONTAINER, `${job.id}.zip`, zip).then(
      () => done("done"),
      () => done("error"),
    );
    this.writes.add(p);
    void p.finally(() => this.writes.delete(p));
  }

  private status(job: ExportJobRecord): "notStarted" | "inProgress" | "completed" | "failed" {
    const elapsed = this.ctx.clock.now() - job.createdMs;
    if (elapsed < this.options.startDelayMs) return "notStarted";
    if (job.fault === "stuck" || elapsed < this.options.startDelayMs + this.options.runDelayMs) return "inProgress";
    if (job.fault === "fail" || job.written === "error") return "failed";
    return job.written === "pending" ? "inProgress" : "completed";
  }

  private get(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    let job = t.exportJobs.get(id);
    if (!job) throw notFound(`Resource '${id}' does not exist.`);
    if (this.status(job) === "completed" && job.url === null && this.storage) {
      const now = this.ctx.clock.now();
      // The SAS checks real time: an "expired" URL ends a minute before now.
      const expires =
        job.fault === "expiredUrl" ? new Date(Date.now() - 60_000) : new Date(Date.now() + this.options.urlValidityMs);
      job = {
        ...job,
        url: this.storage.readUrl(CONTAINER, `${job.id}.zip`, expires),
        expirationDateTime: new Date(now + this.options.urlValidityMs).toISOString(),
      };
      t.exportJobs.put(job);
    }
    return { status: 200, body: this.wire(req, job) };
  }

  private wire(req: GraphRequest, job: ExportJobRecord): Record<string, unknown> {
    const status = this.status(job);
    return {
      "@odata.context": `${req.baseUrl}/$metadata#deviceManagement/reports/exportJobs/$entity`,
      id: job.id,
      reportName: job.reportName,
      filter: job.filter,
      select: job.select,
      format: job.format,
      snapshotId: null,
      localizationType: job.localizationType,
      status,
      url: status === "completed" ? job.url : null,
      requestDateTime: job.requestDateTime,
      expirationDateTime: job.expirationDateTime,
    };
  }
}
