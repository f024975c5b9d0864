// Boot of the embedded storage: Azurite's blob service started in this process on 127.0.0.1 over HTTPS, in memory
// or in a folder (docs/reference/azurite.md §1.1).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server as HttpsServer } from "node:https";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type BlobConfigurationClass from "azurite/dist/src/blob/BlobConfiguration";
import type BlobServerClass from "azurite/dist/src/blob/BlobServer";
import type * as MemoryExtentStoreModule from "azurite/dist/src/common/persistence/MemoryExtentStore";
import { PublisherError } from "../../src/core/errors.js";
import type { TlsCertificates } from "../../src/platform/certificates.js";

/**
 * Azurite's well-known development account (docs/reference/azurite.md §1.2): a key published in Microsoft's docs, so
 * anyone who can reach the port can read and write every blob. Fine for a local emulator on loopback only.
 */
export const ACCOUNT = "devstoreaccount1";
export const ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteOptions {
  /**
   * PEM: the server certificate (chain) for 127.0.0.1 and its key, and the CA that issued it, which clients (and the
   * embedded storage's own SDK calls) trust explicitly.
   */
  tls: TlsCertificates;
  /** Disk folder for blobs and metadata; in memory when absent (never both: docs/reference/azurite.md §1.1). */
  location?: string;
  /** In-memory mode only: cap on stored extents, in MB (default: Azurite's, half of RAM). */
  extentMemoryLimitMB?: number;
}

/** A running Azurite blob service. */
export interface AzuriteBlobService {
  /** https://127.0.0.1:PORT */
  readonly origin: string;
  /** the HTTPS server Azurite answers on (its request listeners can be put behind others) */
  readonly httpServer: HttpsServer;
  /** stops it; in memory, its blobs are freed too */
  close(): Promise<void>;
}

interface AzuriteModules {
  BlobServer: typeof BlobServerClass;
  BlobConfiguration: typeof BlobConfigurationClass;
  MemoryExtentChunkStore: typeof MemoryExtentStoreModule.MemoryExtentChunkStore;
}

/** Loads Azurite lazily (it pulls in express and LokiJS) through CommonJS, as docs/reference/azurite.md §1.1 says. */
function loadAzurite(): AzuriteModules {
  const require = createRequire(import.meta.url);
  const server = require("azurite/dist/src/blob/BlobServer") as { default: typeof BlobServerClass };
  const config = require("azurite/dist/src/blob/BlobConfiguration") as { default: typeof BlobConfigurationClass };
  const memory = require("azurite/dist/src/common/persistence/MemoryExtentStore") as typeof MemoryExtentStoreModule;
  return {
    BlobServer: server.default,
    BlobConfiguration: config.default,
    MemoryExtentChunkStore: memory.MemoryExtentChunkStore,
  };
}

function checkOptions(opts: AzuriteOptions): void {
  if (opts.location !== undefined && opts.extentMemoryLimitMB !== undefined) {
    throw new Error("extentMemoryLimitMB applies to in-memory storage only; it cannot be combined with location.");
  }
  if (opts.extentMemoryLimitMB !== undefined && !(opts.extentMemoryLimitMB > 0)) {
    throw new Error(`extentMemoryLimitMB must be a positive number, not ${opts.extentMemoryLimitMB}.`);
  }
  if (process.env.AZURITE_ACCOUNTS) {
    // Azurite would replace the well-known account that this module signs SAS URLs with (AccountDataStore).
    throw new Error("AZURITE_ACCOUNTS is set: unset it, the embedded storage signs with Azurite's default account.");
  }
}

/**
 * Starts Azurite's blob service in-process on 127.0.0.1 with an ephemeral port over HTTPS. Telemetry is never
 * initialised in-process (only Azurite's CLI does that); API version checks are skipped because the SDK sends a
 * newer x-ms-version than Azurite knows (docs/reference/azurite.md §1.1).
 */
export async function bootAzurite(opts: AzuriteOptions): Promise<AzuriteBlobService> {
  checkOptions(opts);
  const azurite = loadAzurite();
  const inMemory = opts.location === undefined;
  const location = opts.location ?? tmpdir(); // unused by Azurite in memory mode
  const unusable = (e: unknown): unknown =>
    inMemory
      ? e
      : new PublisherError("BlobFolderUnusable", `Cannot keep blob storage in ${location}: ${(e as Error).message}`, {
          hint: "Give a folder this user may write (--blob-dir), or remove what is in the way.",
          cause: e,
        });
  // Azurite writes its metadata databases into the folder but never creates it.
  if (!inMemory)
    await mkdir(location, { recursive: true, mode: 0o700 }).catch((e: unknown) => Promise.reject(unusable(e)));

  // Azurite reads the certificate and key from files, synchronously in the BlobServer constructor: write them to
  // a private folder (mkdtemp is 0700) and remove it as soon as the server object exists.
  const certDir = await mkdtemp(join(tmpdir(), "intune-emulator-blob-tls-"));
  let server: BlobServerClass;
  try {
    const certPath = join(certDir, "server.crt");
    const keyPath = join(certDir, "server.key");
    await writeFile(certPath, opts.tls.serverCertPem, { mode: 0o600 });
    await writeFile(keyPath, opts.tls.serverKeyPem, { mode: 0o600 });
    const memoryStore = inMemory
      ? new azurite.MemoryExtentChunkStore(
          opts.extentMemoryLimitMB === undefined ? undefined : Math.round(opts.extentMemoryLimitMB * 1024 * 1024),
        )
      : undefined;
    const config = new azurite.BlobConfiguration(
      "127.0.0.1",
      0, // ephemeral port
      5, // keep-alive seconds
      join(location, "__azurite_db_blob__.json"),
      join(location, "__azurite_db_blob_extent__.json"),
      [{ locationId: "Default", locationPath: join(location, "__blobstorage__"), maxConcurrency: 10 }],
      false, // access log
      undefined,
      false, // debug log
      undefined,
      false, // loose: every flow here passes without it (docs/reference/azurite.md §1.1)
      true, // skipApiVersionCheck
      certPath,
      keyPath,
      "",
      undefined, // oauth
      false, // disableProductStyleUrl
      inMemory,
      // A private chunk store: Azurite's default is one shared by every server in the process, so clean() of one
      // embedded storage would wipe another's blobs.
      memoryStore,
    );
    server = new azurite.BlobServer(config);
  } finally {
    await rm(certDir, { recursive: true, force: true });
  }
  try {
    await server.start();
  } catch (e) {
    // A failed start leaves the metadata stores open (LokiJS autosave timers keep the process alive) and
    // Azurite's close() refuses a server that is not running: close what beforeStart() opened.
    await (server as unknown as { afterClose(): Promise<void> }).afterClose().catch(() => undefined);
    throw unusable(e);
  }
  return {
    origin: server.getHttpServerAddress(),
    httpServer: (server as unknown as { httpServer: HttpsServer }).httpServer,
    async close() {
      await server.close();
      // In memory, clean() frees the extents; on disk it would delete the persisted data, which must survive.
      if (inMemory) await server.clean();
    },
  };
}
