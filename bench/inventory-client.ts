/*
 * Child process of bench/inventory.ts: reads the inventory of a local tenant by one path, aggregates it and
 * matches it against a generated catalog of 10,000 products, in a fresh process so its peak RSS is its own.
 * Prints one JSON line.
 *
 *   node dist/bench/inventory-client.js export|detected-apps '<tenant info JSON>'
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GraphClient } from "../src/clients/graph/client.js";
import { IntuneApi } from "../src/clients/graph/intune.js";
import { createHttpPipeline } from "../src/clients/http/pipeline.js";
import { createStreamTransport } from "../src/clients/http/stream-transport.js";
import { createFetchTransport } from "../src/clients/http/transport.js";
import { DEFAULT_POLL, downloadReport, readReportZip, REPORT, runExportJob } from "../src/inventory/export.js";
import { CatalogMatcher } from "../src/inventory/match.js";
import type { CatalogProduct } from "../src/inventory/match.js";
import { readInventoryByDetectedApps } from "../src/inventory/read.js";
import { buildReport } from "../src/inventory/report.js";
import type { InventoryTenantInfo } from "./inventory-tenant.js";

const PUBLISHERS = ["Contoso", "Fabrikam", "Northwind", "Adatum", "Litware"];
const PRODUCTS = ["Editor", "Viewer", "Agent", "Runtime", "Studio", "Client", "Toolkit", "Sync"];

/** 10,000 products: names in the generator's style (some match, most do not), a few ARP entries each. */
function catalog(): CatalogProduct[] {
  return Array.from({ length: 10_000 }, (_, i) => {
    const pub = PUBLISHERS[i % PUBLISHERS.length] ?? "";
    const name = `${pub} ${PRODUCTS[i % PRODUCTS.length] ?? ""} ${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(97 + (((i / 26) % 26) | 0))}`;
    return {
      id: `${pub}.P${i}`,
      name,
      publisher: pub,
      version: `${(i % 25) + 1}.0`,
      tags: [`t${i}`],
      arp: [{ displayName: `${name} (x64)`, publisher: pub }],
    };
  });
}

async function main(): Promise<void> {
  const via = process.argv[2];
  const info = JSON.parse(process.argv[3] ?? "{}") as InventoryTenantInfo;
  const fetch = createFetchTransport({ trustedCaPem: info.caCertPem });
  const stream = createStreamTransport({ trustedCaPem: info.caCertPem });
  const api = new IntuneApi(
    new GraphClient({
      pipeline: createHttpPipeline({
        transport: fetch.send,
        tokenProvider: { getToken: async () => ({ token: info.token, expiresOn: Date.now() + 3_000_000 }) },
      }),
      baseUrl: info.graphBaseUrl,
    }),
  );
  const work = await mkdtemp(join(tmpdir(), "ip-bench-inv-"));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  /** phase → [wall s, client CPU s] */
  const phases: Record<string, [number, number]> = {};
  let mark = { t: t0, cpu: cpu0 };
  const phase = (name: string): void => {
    const now = { t: performance.now(), cpu: process.cpuUsage() };
    phases[name] = [(now.t - mark.t) / 1000, (now.cpu.user + now.cpu.system - mark.cpu.user - mark.cpu.system) / 1e6];
    mark = now;
  };
  let rows: number;
  let apps;
  if (via === "export") {
    // readInventoryByExport's steps one by one (without its retry of an expired URL), to time each; the polling a
    // user gets (DEFAULT_POLL)
    const url = await runExportJob(api, DEFAULT_POLL);
    phase("job");
    const file = join(work, "report.zip");
    await downloadReport(stream, url, file);
    phase("download");
    const r = await readReportZip(file, `The ${REPORT} report`);
    phase("parse");
    rows = r.rows;
    apps = r.apps;
  } else {
    apps = await readInventoryByDetectedApps(api);
    rows = apps.length;
    phase("read");
  }
  const tRead = performance.now();
  const products = buildReport(apps, new CatalogMatcher(catalog()));
  const t1 = performance.now();
  phase("match");
  const cpu = process.cpuUsage(cpu0);
  await rm(work, { recursive: true, force: true });
  await stream.close();
  await fetch.close();
  process.stdout.write(
    JSON.stringify({
      via,
      rows,
      appVersions: apps.length,
      products: products.length,
      matched: products.filter((p) => p.catalogId !== null).length,
      readSeconds: (tRead - t0) / 1000,
      totalSeconds: (t1 - t0) / 1000,
      clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
      phases,
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    }) + "\n",
  );
}

void main();
