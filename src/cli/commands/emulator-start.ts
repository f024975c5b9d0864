import { chmod, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { formatLocalTenantRecord, LOCAL_TENANT_RECORD_FILE } from "../../core/config/local-tenant-record.js";
import { PublisherError } from "../../core/errors.js";
import { defaultEmulatorStateDir } from "../../publish/connect/local-tenant.js";
import type { StartedLocalTenant } from "../../publish/connect/local-tenant.js";
import { checkListenHost, localTenantLauncher } from "../../publish/connect/local-tenant-launcher.js";
import { acquireStateLock } from "../../publish/connect/state-lock.js";
import { defineCommand } from "../command.js";
import { option } from "../options.js";
import type { CommandContext } from "../command.js";
import { keyValueTable, printData } from "../output.js";

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((done) =>
    signal.aborted ? done() : signal.addEventListener("abort", () => done(), { once: true }),
  );
}

/** Creates the state folder 0700 (it holds private keys and a client secret); warns when others may read it. */
async function prepareStateDir(dir: string, warn: (line: string) => void): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((e: unknown) => {
    throw new PublisherError(
      "StateFolderUnusable",
      `Cannot create the state folder ${dir} (${(e as NodeJS.ErrnoException).code ?? "error"}).`,
      { hint: "Give a folder this user may write with --state DIR.", cause: e },
    );
  });
  const s = await stat(dir);
  if (!s.isDirectory())
    throw new PublisherError("StateFolderUnusable", `The state folder ${dir} is not a folder.`, {
      hint: "Give a folder with --state DIR.",
    });
  const mode = s.mode & 0o777;
  if (process.platform !== "win32" && (mode & 0o077) !== 0)
    warn(
      `The state folder ${dir} is open to other users (mode ${mode.toString(8)}) and holds the local tenant's private keys; run chmod 700 on it.`,
    );
}

/** Writes a 0600 file under a temporary name and renames it: readers never see half a record. */
async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export default defineCommand({
  description:
    "Serves the token endpoint, Graph (/beta, /v1.0), the upload storage and a vendor download host (the catalog's " +
    "local source: winget manifests, index and installers) over HTTPS until Ctrl-C.",
  notes: [
    "One emulator per state folder: a second start on a folder in use refuses and names the running one.",
    "Clients must trust the printed CA certificate (NODE_EXTRA_CA_CERTS or an explicit CA option).",
  ].join("\n"),
  options: z.object({
    seed: option(z.string().min(1).optional(), {
      value: "FILE",
      help: "YAML or JSON seed (docs/emulator.md); default: one tenant, one app with all six permissions",
    }),
    port: option(z.coerce.number().int().min(0).max(65535).optional(), {
      value: "N",
      help: "HTTPS port (default: any free port)",
    }),
    host: option(z.string().min(1).optional(), {
      value: "H",
      help:
        "127.0.0.1 (default) or localhost; any other address is refused: the admin API has no authentication and " +
        "blob storage uses Azurite's public well-known account key (loopback only)",
    }),
    state: option(z.string().min(1).optional(), {
      value: "DIR",
      help:
        "keeps the CA, server certificate and credentials.json (default: $INTUNE_PUBLISHER_EMULATOR_STATE, else " +
        "the user's state folder); `connect test --cloud local` finds the running tenant there",
    }),
    persist: option(z.boolean().default(false), {
      help:
        "keeps Graph state (apps, uploads, assignments) and uploaded content in the state folder (and " +
        "credentials.json after a stop, so later commands say it is stopped)",
    }),
    vendorSeed: option(z.string().min(1).optional(), {
      value: "FILE",
      help:
        "the vendor download host's seed (YAML or JSON, docs/emulator.md#vendor-host): the catalog products it " +
        "serves (default: a few demo products)",
    }),
    noVendor: option(z.boolean().default(false), {
      help: "no vendor download host (the catalog commands then need a --source)",
    }),
    blobDir: option(z.string().min(1).optional(), {
      value: "DIR",
      help: "keeps uploaded content on disk in DIR instead of in memory (for large packages)",
    }),
  }),
  async run(ctx: CommandContext, o) {
    const stateDir = resolve(ctx.cwd, o.state ?? defaultEmulatorStateDir(ctx.env));
    const blobDir =
      o.blobDir !== undefined ? resolve(ctx.cwd, o.blobDir) : o.persist ? join(stateDir, "blobs") : undefined;
    const warn = (line: string): boolean => ctx.stderr.write(`warning: ${line}\n`);
    await checkListenHost(o.host); // refused before anything is created
    await prepareStateDir(stateDir, warn);
    // One emulator per state folder: a second start would overwrite credentials.json (docs/emulator.md).
    const lock = await acquireStateLock(stateDir, (line) => ctx.stderr.write(`${line}\n`));
    const credentialsPath = join(stateDir, LOCAL_TENANT_RECORD_FILE);
    let lt: StartedLocalTenant;
    try {
      lt = await localTenantLauncher.start({
        ...(o.seed === undefined ? {} : { seed: resolve(ctx.cwd, o.seed) }),
        ...(o.port === undefined ? {} : { port: o.port }),
        ...(o.host === undefined ? {} : { host: o.host }),
        stateDir,
        persist: o.persist,
        storage: blobDir === undefined ? "memory" : { location: blobDir },
        ...(o.noVendor
          ? { vendorSeed: false }
          : o.vendorSeed === undefined
            ? {}
            : { vendorSeed: resolve(ctx.cwd, o.vendorSeed) }),
      });
    } catch (e) {
      await lock.release();
      throw e;
    }
    try {
      for (const w of lt.warnings) warn(w);
      if (!(await lock.isHeld()))
        throw new PublisherError(
          "EmulatorStateInUse",
          `Another local tenant took over the state folder ${stateDir} while this one started.`,
          { hint: "Run one emulator per state folder; give this one another --state DIR." },
        );
      // Everything a client needs to find and use this tenant (src/publish/connect/local-tenant.ts reads it).
      await writePrivate(
        credentialsPath,
        formatLocalTenantRecord({
          authorityHost: lt.authorityHost,
          graphBaseUrl: lt.graphBaseUrl,
          tokenAudience: lt.tokenAudience,
          tenantId: lt.tenantId,
          clientId: lt.clientId,
          clientSecret: lt.clientSecret ?? null,
          ...(lt.vendorUrl === undefined ? {} : { vendorUrl: lt.vendorUrl }),
        }),
      );
      await lock.setAddress(lt.authorityHost);
      const data = {
        authority: lt.authority,
        authorityHost: lt.authorityHost,
        graphBaseUrl: lt.graphBaseUrl,
        tenantId: lt.tenantId,
        clientId: lt.clientId,
        caCertificate: lt.caCertPath ?? join(stateDir, "ca.pem"),
        clientSecretFile: credentialsPath,
        blobEndpoint: lt.blobEndpoint ?? null,
        vendorUrl: lt.vendorUrl ?? null,
        pid: process.pid,
      };
      printData(ctx, data, () => keyValueTable(Object.entries(data)));
      ctx.stderr.write(`Local tenant listening on ${lt.authorityHost}. Press Ctrl-C to stop.\n`);
      await waitForAbort(ctx.signal);
      ctx.stderr.write("Stopping the local tenant.\n");
      return 0;
    } finally {
      try {
        await lt.close();
      } finally {
        // A persisted folder keeps its record, so a later command says the tenant is stopped instead of publishing
        // to an empty in-process one; without --persist the tenant's state is gone, and so is its record.
        if (!o.persist && (await lock.isHeld())) await rm(credentialsPath, { force: true });
        await lock.release();
      }
    }
  },
});
