/**
 * Test support for runs across tenants: a local tenant serving the fleet seed (many tenants, one multi-tenant app
 * registration consented in each, groups that differ), the vendor host standalone, the catalog over HTTPS, one
 * download cache and one shared package store for the whole run, each tenant signed in through our session code.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fleetSeed, fleetTenants } from "../../emulator/fleet-seed.js";
import type { FleetTenant } from "../../emulator/fleet-seed.js";
import type { LocalTenant } from "../../emulator/server.js";
import { startVendorHost } from "../../emulator/vendor/host.js";
import type { VendorHost } from "../../emulator/vendor/host.js";
import type { VendorSeedInput } from "../../emulator/vendor/seed.js";
import { openCatalogSource } from "../../src/catalog/catalog.js";
import { Downloader } from "../../src/catalog/download/downloader.js";
import { catalogHttp } from "../../src/catalog/http.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import { createStreamTransport } from "../../src/clients/http/stream-transport.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import { localTargetOf } from "../../src/publish/connect/local-tenant.js";
import { localConnection, openGraphSession } from "../../src/publish/target.js";
import { loadSubscriptions } from "../../src/publish/sync/subscriptions.js";
import { loadTenants } from "../../src/publish/tenants/file.js";
import { SharedPackages } from "../../src/publish/tenants/packages.js";
import { runAcrossTenants } from "../../src/publish/tenants/run.js";
import type { TenantRunContext, TenantsRunResult } from "../../src/publish/tenants/run.js";
import { FAST_POLL, startLocalTestTenant } from "../support/tenant.js";

export const FLEET_SECRET = "fleet-test-secret-0123456789abcdefghijklmn";

export interface TenantsBed {
  lt: LocalTenant;
  host: VendorHost;
  fleet: FleetTenant[];
  packages: SharedPackages;
  /** the HTTP statuses each tenant's Graph client got, by tenant name, since the bed started */
  statuses: Map<string, number[]>;
  /** writes the two files and runs across every tenant of the tenants file */
  run(
    tenantsYaml: string,
    subscriptionsYaml: string,
    extra?: Partial<TenantRunContext>,
    tenantConcurrency?: number,
  ): Promise<TenantsRunResult>;
  close(): Promise<void>;
}

/** A tenants file for the fleet: each tenant's logical group Workstations mapped to its own group. */
export function fleetTenantsYaml(fleet: readonly FleetTenant[], extra: (t: FleetTenant) => string = () => ""): string {
  return [
    "tenants:",
    ...fleet.map(
      (t, i) =>
        `  - name: ${t.name}\n    tenantId: ${t.id}\n    cloud: local\n    tags: { ring: ${i < 5 ? "pilot" : "broad"} }\n` +
        `    groups: { Workstations: "${t.groups.workstations}" }\n${extra(t)}`,
    ),
  ].join("\n");
}

export async function startTenantsBed(dir: string, count: number, vendor: VendorSeedInput): Promise<TenantsBed> {
  const lt = await startLocalTestTenant({ seed: fleetSeed(count, FLEET_SECRET), vendor: false });
  const host = await startVendorHost({ seed: vendor });
  const fetchTransport = createFetchTransport({ trustedCaPem: host.caCertPem });
  const stream = createStreamTransport({ trustedCaPem: host.caCertPem });
  const http = catalogHttp(
    createHttpPipeline({ transport: fetchTransport.send, retry: { sleep: async () => undefined } }),
  );
  const downloader = new Downloader({
    cacheDir: join(dir, "cache"),
    transport: stream,
    lockFile: join(dir, "catalog.lock.json"),
    sleep: async () => undefined,
  });
  const packages = new SharedPackages(join(dir, "packages"));
  const target = localTargetOf(lt, "test");
  const statuses = new Map<string, number[]>();
  return {
    lt,
    host,
    fleet: fleetTenants(count),
    packages,
    statuses,
    async run(tenantsYaml, subscriptionsYaml, extra = {}, tenantConcurrency = 4) {
      await writeFile(join(dir, "tenants.yaml"), tenantsYaml);
      await writeFile(join(dir, "subscriptions.yaml"), subscriptionsYaml);
      const file = await loadTenants(join(dir, "tenants.yaml"));
      return runAcrossTenants(
        {
          file: file.value,
          subscriptions: await loadSubscriptions(join(dir, "subscriptions.yaml")),
          openSource: (spec) => openCatalogSource(spec ?? host.origin, { http }),
          downloader,
          packages,
          connect: async (t) => {
            const s = await openGraphSession(localConnection(target, { tenant: t.tenantId }), {
              env: {},
              logger: {
                info: () => undefined,
                warning: () => undefined,
                event: (e) => {
                  if (e.status !== undefined) statuses.set(t.name, [...(statuses.get(t.name) ?? []), e.status]);
                },
              },
            });
            try {
              await s.signIn();
            } catch (e) {
              await s.close();
              throw e;
            }
            return { graph: s.graph, storageTransport: s.transport.send, close: () => s.close() };
          },
          workDir: join(dir, "work"),
          upload: { poll: FAST_POLL, blockSize: 64 * 1024 },
          ...extra,
        },
        file.value.tenants,
        tenantConcurrency,
      );
    },
    async close() {
      await packages.close();
      await stream.close();
      await fetchTransport.close();
      await host.close();
      await lt.close();
    },
  };
}

/**
 * Writes the "Fleet Tool" app definition (a one-file setup folder) under `dir`, with `extra` lines appended (e.g.
 * its assignments); returns the definition's path.
 */
export async function writeFleetTool(dir: string, extra: string[] = []): Promise<string> {
  await mkdir(join(dir, "source"), { recursive: true });
  await writeFile(join(dir, "source", "install.cmd"), "@echo installing\r\n");
  const file = join(dir, "fleet-tool.yaml");
  await writeFile(
    file,
    [
      "id: fleet-tool",
      "displayName: Fleet Tool",
      "publisher: Example",
      'version: "1.0.0"',
      "content: { source: source, setupFile: install.cmd }",
      "install: { command: install.cmd }",
      "uninstall: { command: uninstall.cmd }",
      "detection:",
      "  - { type: file, path: 'C:\\Fleet', fileOrFolderName: tool.exe, check: exists }",
      ...extra,
      "",
    ].join("\n"),
  );
  return file;
}
