/**
 * Test support for sync: the local tenant (test/publish/support.ts) and the vendor host started standalone, the
 * catalog read over HTTPS from the host (its CA trusted explicitly), downloads into a scratch cache.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startVendorHost } from "../../emulator/vendor/host.js";
import type { VendorHost } from "../../emulator/vendor/host.js";
import type { ProductInput, VendorSeedInput } from "../../emulator/vendor/seed.js";
import { openCatalogSource } from "../../src/catalog/catalog.js";
import { Downloader } from "../../src/catalog/download/downloader.js";
import { catalogHttp } from "../../src/catalog/http.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import { createStreamTransport } from "../../src/clients/http/stream-transport.js";
import type { HttpLogger } from "../../src/clients/http/types.js";
import type { StreamTransport } from "../../src/clients/http/stream-transport.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import type { FetchTransport } from "../../src/clients/http/transport.js";
import { loadSubscriptions } from "../../src/publish/sync/subscriptions.js";
import { sync } from "../../src/publish/sync/sync.js";
import type { SyncOptions, SyncResult } from "../../src/publish/sync/sync.js";
import { FAST_POLL, startPublishTenant } from "../support/tenant.js";
import type { PublishTenant } from "../support/tenant.js";

/** A nullsoft product (silent `/S` by default) with one x64 installer of a few bytes. */
export function product(id: string, version: string, fields: Record<string, unknown> = {}): ProductInput {
  return {
    id,
    name: id.split(".")[1]!,
    publisher: id.split(".")[0]!,
    versions: [
      {
        version,
        installers: [{ architecture: "x64", type: "nullsoft", content: { text: `${id} ${version}\n` }, fields }],
      },
    ],
  };
}

/** What the bed needs of a tenant: our session on it and the Graph calls it recorded (startPublishTenant's). */
export type BedTenant = Pick<PublishTenant, "session" | "calls" | "graphWrites" | "close">;

export interface SyncBed<T extends BedTenant = PublishTenant> {
  tenant: T;
  host: VendorHost;
  /** runs sync with the subscriptions YAML given (written to `dir/subscriptions.yaml`) */
  run(yaml: string, extra?: Partial<SyncOptions>): Promise<SyncResult>;
  /** installer downloads the vendor host answered since the last clearRequests */
  installerRequests(): number;
  close(): Promise<void>;
}

/** `logger` sees every Graph attempt of the session (bench/sync-timeline.ts). */
export async function startSyncBed(
  dir: string,
  seed: VendorSeedInput,
  extra: { logger?: HttpLogger } = {},
): Promise<SyncBed> {
  return startSyncBedOn(dir, seed, await startPublishTenant({}, extra));
}

/** The bed on a tenant already started (bench/sync.ts: one in another process); `close` closes it too. */
export async function startSyncBedOn<T extends BedTenant>(
  dir: string,
  seed: VendorSeedInput,
  tenant: T,
): Promise<SyncBed<T>> {
  const host = await startVendorHost({ seed });
  const fetchTransport: FetchTransport = createFetchTransport({ trustedCaPem: host.caCertPem });
  const stream: StreamTransport = createStreamTransport({ trustedCaPem: host.caCertPem });
  const http = catalogHttp(
    createHttpPipeline({ transport: fetchTransport.send, retry: { sleep: async () => undefined } }),
  );
  const downloader = new Downloader({
    cacheDir: join(dir, "cache"),
    transport: stream,
    lockFile: join(dir, "catalog.lock.json"),
    sleep: async () => undefined,
  });
  return {
    tenant,
    host,
    async run(yaml, extra = {}) {
      const file = join(dir, "subscriptions.yaml");
      await writeFile(file, yaml);
      return sync({
        subscriptions: await loadSubscriptions(file),
        openSource: (spec) => openCatalogSource(spec ?? host.origin, { http, indexCacheDir: join(dir, "index") }),
        downloader,
        graph: tenant.session.graph,
        workDir: join(dir, "work"),
        upload: { poll: FAST_POLL, storage: { transport: tenant.session.transport.send }, blockSize: 64 * 1024 },
        ...extra,
      });
    },
    installerRequests: () => host.admin.requests().filter((r) => r.url.startsWith("/dl/")).length,
    async close() {
      await stream.close();
      await fetchTransport.close();
      await host.close();
      await tenant.close();
    },
  };
}
