/**
 * The export path: Intune's reports export API (docs/inventory.md, docs/reference/intune-reports.md). Create a job
 * for AppInvRawData, poll it with backoff until it completes or fails (a deadline), download the zip from its URL to a
 * temporary file (size-capped), then stream the one CSV inside through the CSV parser into the aggregator. Nothing
 * holds the report whole. The download URL is a SAS: it never appears in a message or a log.
 */
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createInflateRaw } from "node:zlib";
import yauzl from "yauzl";
import type { IntuneApi } from "../clients/graph/intune.js";
import type { StreamTransport } from "../clients/http/stream-transport.js";
import { toNetworkError } from "../clients/http/errors.js";
import { abortableSleep } from "../clients/http/sleep.js";
import type { Sleep } from "../clients/http/types.js";
import type { ExportJobWire } from "../core/wire/graph.js";
import { CsvParser } from "./csv.js";
import { inventoryError } from "./errors.js";
import { InventoryAggregator } from "./model.js";
import type { InventoryApp } from "./model.js";

export const REPORT = "AppInvRawData";
export const REPORT_COLUMNS = ["ApplicationName", "ApplicationPublisher", "ApplicationVersion", "DeviceId"] as const;

export const EXPORT_LIMITS = {
  /** the zip downloaded: 2,000,000 rows of the selected columns are about 40 MB compressed */
  maxZipBytes: 4 * 1024 * 1024 * 1024,
  /** the CSV inside, uncompressed */
  maxCsvBytes: 16 * 1024 * 1024 * 1024,
  /** rows of the report */
  maxRows: 100_000_000,
} as const;

export interface PollOptions {
  /**
   * the shortest wait between polls; each wait is a quarter of the time waited so far, at least this and at most
   * `maxIntervalMs`, so a job is seen completed at most 25 % (and `maxIntervalMs`) after it completes
   */
  initialIntervalMs: number;
  maxIntervalMs: number;
  /** give up after this long */
  deadlineMs: number;
  sleep?: Sleep;
}

export const DEFAULT_POLL: PollOptions = { initialIntervalMs: 1000, maxIntervalMs: 15_000, deadlineMs: 20 * 60_000 };

/**
 * Creates the job and polls it until completed (its URL) or failed (an error); `timeout` after the deadline. Waits
 * grow with the time waited (not by doubling, which can poll 15 s after a 16 s job completed): see `PollOptions`.
 */
export async function runExportJob(api: IntuneApi, poll: PollOptions, signal?: AbortSignal): Promise<string> {
  const sleep = poll.sleep ?? abortableSleep;
  let job: ExportJobWire = await api.createExportJob(
    {
      reportName: REPORT,
      format: "csv",
      select: [...REPORT_COLUMNS],
      localizationType: "localizedValuesAsAdditionalColumn",
    },
    signal,
  );
  let waited = 0;
  for (;;) {
    if (job.status === "completed") {
      if (typeof job.url !== "string" || !/^https:\/\//i.test(job.url))
        throw inventoryError(
          "ExportJobNoUrl",
          `The export job ${job.id} completed without an https download URL.`,
          "Run the command again.",
        );
      return job.url;
    }
    if (job.status === "failed")
      throw inventoryError(
        "ExportJobFailed",
        `Intune's export job ${job.id} (${REPORT}) failed.`,
        "Run the command again later; if it keeps failing, use --via detected-apps.",
      );
    if (waited >= poll.deadlineMs)
      throw inventoryError(
        "ExportJobTimeout",
        `Intune's export job ${job.id} (${REPORT}) was still ${job.status} after ${Math.round(waited / 1000)} s.`,
        "Run the command again later (large tenants can take minutes), or use --via detected-apps.",
      );
    const interval = Math.min(Math.max(poll.initialIntervalMs, Math.round(waited / 4)), poll.maxIntervalMs);
    const wait = Math.min(interval, poll.deadlineMs - waited);
    await sleep(wait, signal);
    waited += wait;
    job = await api.getExportJob(job.id, signal);
  }
}

/** A download URL's host, for messages (the query string is a SAS signature). */
const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return "(invalid URL)";
  }
};

/** Downloads the report's zip to `file`; a 403 (expired or revoked SAS) is `ReportUrlExpired`. */
export async function downloadReport(
  transport: StreamTransport,
  url: string,
  file: string,
  signal?: AbortSignal,
): Promise<void> {
  const request = { method: "GET" as const, url, headers: {}, ...(signal ? { signal } : {}) };
  const res = await transport.stream(request);
  if (res.status !== 200) {
    res.body.destroy();
    if (res.status === 403)
      throw inventoryError(
        "ReportUrlExpired",
        `The report's download URL (${hostOf(url)}) was refused (403): it expired or was revoked.`,
        "Run the command again: a new export is made.",
      );
    throw inventoryError(
      "ReportDownloadFailed",
      `Downloading the report from ${hostOf(url)} answered ${res.status}.`,
      "Run the command again.",
    );
  }
  let bytes = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > EXPORT_LIMITS.maxZipBytes)
        done(
          inventoryError(
            "ReportTooLarge",
            `The report's zip is over ${EXPORT_LIMITS.maxZipBytes} bytes.`,
            "Use --via detected-apps.",
            "input",
          ),
        );
      else done(null, chunk);
    },
  });
  try {
    await pipeline(res.body, cap, createWriteStream(file, { mode: 0o600 }), ...(signal ? [{ signal }] : []));
  } catch (e) {
    if (e instanceof Error && "kind" in e) throw e;
    throw toNetworkError(e, { ...request, url: `https://${hostOf(url)}/…` });
  }
}

const truncated = (where: string, cause?: unknown): Error =>
  inventoryError(
    "TruncatedReport",
    `${where} is not a complete zip (its end is missing or damaged): the inventory was not read.`,
    "Run the command again: a new export is made.",
    cause,
  );

function openZip(file: string, where: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true },
      (err, zip) => (err ? reject(truncated(where, err)) : resolve(zip)),
    ),
  );
}

/** The text of the one CSV in the zip, as a stream of chunks. */
async function* csvText(file: string, where: string): AsyncGenerator<string> {
  const zip = await openZip(file, where);
  try {
    yield* entryText(zip, where);
  } finally {
    zip.close();
  }
}

async function* entryText(zip: yauzl.ZipFile, where: string): AsyncGenerator<string> {
  const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
    const found: yauzl.Entry[] = [];
    zip.on("entry", (e: yauzl.Entry) => {
      if (!e.fileName.endsWith("/")) found.push(e);
      zip.readEntry();
    });
    zip.on("end", () =>
      found.length === 1
        ? resolve(found[0])
        : reject(
            inventoryError(
              "UnexpectedReport",
              `${where} holds ${found.length} files, not one CSV.`,
              "Run the command again.",
            ),
          ),
    );
    zip.on("error", (e) => reject(truncated(where, e)));
    zip.readEntry();
  });
  if (!entry || !/\.csv$/i.test(entry.fileName))
    throw inventoryError(
      "UnexpectedReport",
      `${where} holds ${entry?.fileName ?? "nothing"}, not a CSV.`,
      "Run the command again.",
    );
  if (entry.uncompressedSize > EXPORT_LIMITS.maxCsvBytes)
    throw inventoryError(
      "ReportTooLarge",
      `${where}: the CSV is ${entry.uncompressedSize} bytes, over ${EXPORT_LIMITS.maxCsvBytes}.`,
      "Use --via detected-apps.",
      "input",
    );
  // Deflated (as Intune's are): inflated here in 1 MiB pieces rather than by yauzl in 16 KiB ones (≈ 40 % less CPU
  // for the inflate of a 169 MB report: bench/README.md), so the size check yauzl would make is made here.
  const deflated = entry.compressionMethod === 8;
  const raw = await new Promise<Readable>((resolve, reject) =>
    zip.openReadStream(entry, deflated ? { decompress: false } : {}, (err, s) =>
      err ? reject(truncated(where, err)) : resolve(s),
    ),
  );
  const stream = deflated ? raw.pipe(createInflateRaw({ chunkSize: 1024 * 1024 })) : raw;
  if (deflated) raw.on("error", (e) => stream.destroy(e));
  const text = new StringDecoder("utf8");
  let bytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      yield text.write(chunk);
    }
    yield text.end();
  } catch (e) {
    throw truncated(where, e);
  } finally {
    if (!stream.destroyed) stream.destroy();
  }
  if (bytes !== entry.uncompressedSize) throw truncated(where);
}

/** Reads an AppInvRawData zip into apps; any damaged part refuses the whole report. */
export async function readReportZip(file: string, where: string): Promise<{ apps: InventoryApp[]; rows: number }> {
  const agg = new InventoryAggregator();
  let index: number[] | undefined;
  let [n, p, v] = [0, 0, 0];
  let width = 0;
  let line = 0;
  const onRecord = (record: readonly string[]): void => {
    line++;
    if (index === undefined) {
      width = record.length;
      const header = record.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, "") : h).trim().toLowerCase());
      index = REPORT_COLUMNS.map((c) => header.indexOf(c.toLowerCase()));
      const missing = REPORT_COLUMNS.filter((_, i) => (index?.[i] ?? -1) < 0);
      if (missing.length > 0)
        throw inventoryError(
          "UnexpectedReport",
          `${where}: the report lacks the column(s) ${missing.join(", ")}.`,
          "Run the command again.",
        );
      [n, p, v] = [index[0] ?? 0, index[1] ?? 0, index[2] ?? 0];
      return;
    }
    if (record.length === 1 && record[0] === "") return;
    if (record.length !== width)
      throw inventoryError(
        "MalformedReport",
        `${where}: record ${line} has ${record.length} fields, the header ${width}.`,
        "Run the command again; if it persists, the report is damaged at the source.",
      );
    if (agg.rows >= EXPORT_LIMITS.maxRows)
      throw inventoryError(
        "ReportTooLarge",
        `${where}: over ${EXPORT_LIMITS.maxRows} rows.`,
        "Use --via detected-apps.",
        "input",
      );
    agg.add(record[n] ?? "", record[p] ?? "", record[v] ?? "");
  };
  const parser = new CsvParser(where);
  for await (const chunk of csvText(file, where)) parser.write(chunk, onRecord);
  parser.end(onRecord);
  if (index === undefined) throw truncated(where);
  return { apps: agg.result(), rows: agg.rows };
}

export interface ExportReadOptions {
  api: IntuneApi;
  transport: StreamTransport;
  /** a folder for the temporary zip (removed afterwards) */
  workDir: string;
  poll?: Partial<PollOptions>;
  signal?: AbortSignal;
}

/** The whole export path; an expired download URL is retried once with a new job. */
export async function readInventoryByExport(o: ExportReadOptions): Promise<{ apps: InventoryApp[]; rows: number }> {
  const poll = { ...DEFAULT_POLL, ...o.poll };
  await mkdir(o.workDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(o.workDir, "export-"));
  try {
    for (let attempt = 1; ; attempt++) {
      const url = await runExportJob(o.api, poll, o.signal);
      const file = join(dir, "report.zip");
      try {
        await downloadReport(o.transport, url, file, o.signal);
      } catch (e) {
        if (attempt === 1 && e instanceof Error && (e as { code?: string }).code === "ReportUrlExpired") continue;
        throw e;
      }
      return await readReportZip(file, `The ${REPORT} report`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
