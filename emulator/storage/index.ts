// Embedded Azure Storage for the local tenant: Azurite's blob service in this process, over HTTPS, handing out
// Intune-shaped upload URLs and verifying committed payloads (intune-win32-protocol.md §2.5–2.7, §4 items 12–19;
// local-stack-notes.md §1).
import { randomInt } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BlobServiceClient,
  RestError,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlockBlobClient,
  type ContainerClient,
  type SignedIdentifier,
  type StoragePipelineOptions,
} from "@azure/storage-blob";
import type BlobConfigurationClass from "azurite/dist/src/blob/BlobConfiguration";
import type BlobServerClass from "azurite/dist/src/blob/BlobServer";
import type * as MemoryExtentStoreModule from "azurite/dist/src/common/persistence/MemoryExtentStore";
import { PublisherError } from "../../src/core/errors.js";
import type { TlsCertificates } from "../../src/platform/certificates.js";
import { AUTHENTICATION_FAILED_MESSAGE, sendStorageError } from "./errors.js";
import {
  checkBlobLength,
  checkEncryptionInfo,
  checkExpectedSizes,
  verifyPayloadStream,
  type ExpectedContent,
  type VerificationResult,
} from "./verify-payload.js";

export type { FileEncryptionInfoWire, VerificationCheck, VerificationResult } from "./verify-payload.js";

export interface EmbeddedStorage {
  /** https://127.0.0.1:PORT/devstoreaccount1 (path-style: the account is the first path segment). */
  readonly blobEndpoint: string;
  /**
   * An Intune-shaped SAS URL (`sv=2017-04-17&sr=b&si=<policy>&sig=…`, §2.5) tied to a stored access policy of its
   * own; the container is created on demand.
   */
  createUploadUri(opts: { container: string; blobName: string; expiresOn: Date }): Promise<string>;
  /**
   * Re-sets the URL's stored access policy with a later expiry and the current permissions (`setUploadSasRead`): the
   * same URL works again (§2.6 renewal, §4 item 13). A retired URL cannot be renewed.
   */
  renewUploadUri(uri: string, expiresOn: Date): Promise<void>;
  /**
   * Whether upload URLs issued or renewed from now on grant read (Get Block List, download) besides create and write.
   * Intune's SAS permissions are not documented; without read, Get Block List answers 403
   * AuthorizationPermissionMismatch.
   */
  setUploadSasRead(read: boolean): void;
  readonly uploadSasRead: boolean;
  /**
   * Retires the URL at once: every request through it (Put Block, Put Block List, Put Blob, reads) answers 403
   * AuthenticationFailed, as Azure Storage answers a revoked or expired SAS; its access policy is expired too, so a
   * restarted disk-backed storage still refuses it. Account-key calls (verification, deletion) are unaffected.
   */
  retireUploadUri(uri: string): void;
  /** Fault injection: the URL fails with 403 from now on, until renewed. */
  expireUploadUri(uri: string): Promise<void>;
  /** fault injection: the URL expires once `bytes` of Put Block bodies were accepted (the block passing the mark gets 403) */
  expireUploadUriAfterBytes(uri: string, bytes: number): void;
  /**
   * The commit: retires the URL first (Intune's upload URL stops accepting writes once the file is committed, so
   * what is verified is what stays), then streams the committed blob and runs the commit checks (§4 items 16–19);
   * `reason` is one sentence.
   */
  verifyCommittedContent(uri: string, expected: ExpectedContent): Promise<VerificationResult>;
  /** Retires the URL, deletes the blob (and its uncommitted blocks) and the URL's access policy. */
  deleteBlob(uri: string): Promise<void>;
  close(): Promise<void>;
}

export interface EmbeddedStorageOptions {
  /**
   * PEM: the server certificate (chain) for 127.0.0.1 and its key, and the CA that issued it, which clients (and this
   * module's own SDK calls) trust explicitly.
   */
  tls: TlsCertificates;
  /** Disk folder for blobs and metadata; in memory when absent (never both: local-stack-notes.md §1.1). */
  location?: string;
  /** In-memory mode only: cap on stored extents, in MB (default: Azurite's, half of RAM). */
  extentMemoryLimitMB?: number;
  /** Sees every request first (the local tenant's fault injection); true when it answered or dropped it. */
  intercept?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
  /** Upload URLs grant read (Get Block List) too; default true. See `EmbeddedStorage.setUploadSasRead`. */
  uploadSasRead?: boolean;
}

/**
 * Azurite's well-known development account (local-stack-notes.md §1.2): a key published in Microsoft's docs, so
 * anyone who can reach the port can read and write every blob. Fine for a local emulator on loopback only.
 */
export const ACCOUNT = "devstoreaccount1";
export const ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/** Service version of real azureStorageUri values (§2.5). */
const SAS_VERSION = "2017-04-17";
/** Read (Get Block List, download), create, write (Put Block, Put Block List). */
const UPLOAD_PERMISSIONS = "rcw";
/** Create and write only: Get Block List answers 403 AuthorizationPermissionMismatch. */
const UPLOAD_PERMISSIONS_NO_READ = "cw";
/** Container naming rules of Azure Storage. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** A URL path as a key: percent-decoded, so differently encoded spellings of one blob meet. */
function blobKey(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

interface ParsedUploadUri {
  container: string;
  blobName: string;
  policyId: string;
}

interface AzuriteModules {
  BlobServer: typeof BlobServerClass;
  BlobConfiguration: typeof BlobConfigurationClass;
  MemoryExtentChunkStore: typeof MemoryExtentStoreModule.MemoryExtentChunkStore;
}

/** Loads Azurite lazily (it pulls in express and LokiJS) through CommonJS, as local-stack-notes.md §1.1 says. */
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

/** The storage SDK forwards `tlsOptions` to its HTTP pipeline but its options type does not declare it. */
function trustingPipeline(caPem: string): StoragePipelineOptions {
  // rejectUnauthorized explicit: NODE_TLS_REJECT_UNAUTHORIZED=0 never turns the check off.
  const options: StoragePipelineOptions & { tlsOptions: { ca: string; rejectUnauthorized: true } } = {
    tlsOptions: { ca: caPem, rejectUnauthorized: true },
  };
  return options;
}

/**
 * Starts Azurite's blob service in-process on 127.0.0.1 with an ephemeral port over HTTPS. Telemetry is never
 * initialised in-process (only Azurite's CLI does that); API version checks are skipped because the SDK sends a
 * newer x-ms-version than Azurite knows (local-stack-notes.md §1.1).
 */
export async function startEmbeddedStorage(opts: EmbeddedStorageOptions): Promise<EmbeddedStorage> {
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
  const azurite = loadAzurite();
  const inMemory = opts.location === undefined;
  const location = opts.location ?? tmpdir(); // unused by Azurite in memory mode
  const unusable = (e: unknown): unknown =>
    inMemory
      ? e
      : new PublisherError(
          "input",
          "BlobFolderUnusable",
          `Cannot keep blob storage in ${location}: ${(e as Error).message}`,
          { hint: "Give a folder this user may write (--blob-dir), or remove what is in the way.", cause: e },
        );
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
      false, // loose: every flow here passes without it (local-stack-notes.md §1.1)
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

  // Byte-counting SAS expiry (a fault): Put Block requests pass through here before Azurite sees them.
  const byteBudgets = new Map<string, number>();
  // Blobs whose upload URL was retired (commit, deletion): keyed by the decoded URL path.
  const retired = new Set<string>();
  let uploadPermissions = opts.uploadSasRead === false ? UPLOAD_PERMISSIONS_NO_READ : UPLOAD_PERMISSIONS;
  const httpServer = (server as unknown as { httpServer: HttpsServer }).httpServer;
  const azuriteListeners = httpServer.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  httpServer.removeAllListeners("request");
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const forward = (): void => azuriteListeners.forEach((l) => l.call(httpServer, req, res));
    const url = new URL(req.url ?? "/", "https://storage.invalid");
    if (opts.intercept?.(req, res, url) === true) return;
    // A client's SAS request (the local tenant's own calls are signed with the account key) to a retired URL.
    if (req.headers.authorization === undefined && url.searchParams.has("sig") && retired.has(blobKey(url.pathname))) {
      return sendStorageError(req, res, {
        status: 403,
        code: "AuthenticationFailed",
        message: AUTHENTICATION_FAILED_MESSAGE,
        detail:
          "The upload URL was revoked: its content file was committed (or deleted), so it no longer accepts requests.",
      });
    }
    const left = byteBudgets.get(url.pathname);
    if (left === undefined || req.method !== "PUT" || url.searchParams.get("comp") !== "block") return forward();
    const remaining = left - Number(req.headers["content-length"] ?? 0);
    if (remaining >= 0) {
      byteBudgets.set(url.pathname, remaining);
      return forward();
    }
    byteBudgets.delete(url.pathname);
    req.pause();
    // The request's own URL carries the SAS (si=) that names the access policy to expire.
    const expired = Promise.resolve().then(() =>
      setPolicyExpiry(parseUploadUri(`${endpointUrl.origin}${req.url ?? ""}`), new Date(Date.now() - 60_000)),
    );
    void expired.then(forward, forward);
  });

  const blobEndpoint = `${server.getHttpServerAddress()}/${ACCOUNT}`;
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
  const service = new BlobServiceClient(blobEndpoint, credential, trustingPipeline(opts.tls.caCertPem));
  const endpointUrl = new URL(blobEndpoint);
  const locks = new Map<string, Promise<unknown>>();
  let closed = false;

  /** Serialises read-modify-write of a container's access policies (Set Container ACL replaces the whole list). */
  function withContainerLock<T>(container: string, task: () => Promise<T>): Promise<T> {
    const previous = locks.get(container) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    locks.set(container, settled);
    void settled.then(() => {
      if (locks.get(container) === settled) locks.delete(container);
    });
    return next;
  }

  function assertOpen(): void {
    if (closed) throw new Error("The embedded storage is closed.");
  }

  function parseUploadUri(uri: string): ParsedUploadUri {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new Error(`Not an upload URL: ${JSON.stringify(uri)}.`);
    }
    if (url.origin !== endpointUrl.origin) throw new Error(`The URL ${url.origin} is not served by this storage.`);
    let segments: string[];
    try {
      segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      throw new Error(`The URL path ${url.pathname} is not validly percent-encoded.`);
    }
    const [account, container, ...blobParts] = segments;
    if (account !== ACCOUNT || container === undefined || blobParts.length === 0 || blobParts.includes("")) {
      throw new Error(`The URL path ${url.pathname} does not name a blob of ${ACCOUNT}.`);
    }
    const policyId = url.searchParams.get("si");
    if (policyId === null || policyId === "") throw new Error("The URL has no stored access policy (si=).");
    return { container, blobName: blobParts.join("/"), policyId };
  }

  async function readPolicies(containerClient: ContainerClient): Promise<SignedIdentifier[]> {
    return (await containerClient.getAccessPolicy()).signedIdentifiers;
  }

  /** Sets one policy's expiry (and permissions, else kept), keeping the container's other policies (one per URL). */
  async function setPolicyExpiry(parsed: ParsedUploadUri, expiresOn: Date, permissions?: string): Promise<void> {
    const containerClient = service.getContainerClient(parsed.container);
    await withContainerLock(parsed.container, async () => {
      const policies = await readPolicies(containerClient);
      const index = policies.findIndex((p) => p.id === parsed.policyId);
      if (index < 0) {
        throw new Error(`The upload URL's access policy ${parsed.policyId} no longer exists (blob deleted?).`);
      }
      const kept = policies[index]?.accessPolicy?.permissions ?? uploadPermissions;
      policies[index] = { id: parsed.policyId, accessPolicy: { permissions: permissions ?? kept, expiresOn } };
      await containerClient.setAccessPolicy(undefined, policies);
    });
  }

  function blockBlob(parsed: ParsedUploadUri): BlockBlobClient {
    return service.getContainerClient(parsed.container).getBlockBlobClient(parsed.blobName);
  }

  /** Marks the URL retired (synchronously: effective for the next request) and expires its policy in Azurite. */
  function retire(uri: string): ParsedUploadUri {
    const parsed = parseUploadUri(uri);
    retired.add(blobKey(new URL(uri).pathname));
    void setPolicyExpiry(parsed, new Date(Date.now() - 60_000)).catch(() => undefined);
    return parsed;
  }

  function checkDate(d: Date, name: string): void {
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new Error(`${name} is not a valid date.`);
  }

  return {
    blobEndpoint,

    async createUploadUri({ container, blobName, expiresOn }) {
      assertOpen();
      checkDate(expiresOn, "expiresOn");
      if (!CONTAINER_NAME.test(container)) {
        throw new Error(`Invalid container name ${JSON.stringify(container)} (3–63 of a-z, 0-9 and single hyphens).`);
      }
      const parts = blobName.split("/");
      // Empty, "." and ".." segments would be lost or rewritten by URL normalisation.
      if (blobName.length > 1024 || parts.some((p) => p === "" || p === "." || p === "..")) {
        throw new Error(`Invalid blob name ${JSON.stringify(blobName)}.`);
      }
      const containerClient = service.getContainerClient(container);
      const policyId = await withContainerLock(container, async () => {
        await containerClient.createIfNotExists();
        const policies = await readPolicies(containerClient);
        // Real policy ids look like si=-132219447 (§2.5).
        let id: string;
        do id = String(randomInt(-2_147_483_648, 2_147_483_647));
        while (policies.some((p) => p.id === id));
        policies.push({ id, accessPolicy: { permissions: uploadPermissions, expiresOn } });
        await containerClient.setAccessPolicy(undefined, policies);
        return id;
      });
      const sas = generateBlobSASQueryParameters(
        { containerName: container, blobName, identifier: policyId, version: SAS_VERSION },
        credential,
      );
      const path = parts.map(encodeURIComponent).join("/");
      // Parameter order of real azureStorageUri values (§2.5).
      const query = `sv=${SAS_VERSION}&sr=b&si=${encodeURIComponent(policyId)}&sig=${encodeURIComponent(sas.signature)}`;
      return `${blobEndpoint}/${container}/${path}?${query}`;
    },

    async renewUploadUri(uri, expiresOn) {
      assertOpen();
      checkDate(expiresOn, "expiresOn");
      const parsed = parseUploadUri(uri);
      if (retired.has(blobKey(new URL(uri).pathname)))
        throw new Error("The upload URL was retired (its file was committed or deleted); it cannot be renewed.");
      await setPolicyExpiry(parsed, expiresOn, uploadPermissions);
    },

    setUploadSasRead(read) {
      uploadPermissions = read ? UPLOAD_PERMISSIONS : UPLOAD_PERMISSIONS_NO_READ;
    },

    get uploadSasRead() {
      return uploadPermissions === UPLOAD_PERMISSIONS;
    },

    retireUploadUri(uri) {
      assertOpen();
      retire(uri);
    },

    async expireUploadUri(uri) {
      assertOpen();
      // A minute in the past: clear of clock granularity and of any start-time tolerance.
      await setPolicyExpiry(parseUploadUri(uri), new Date(Date.now() - 60_000));
    },

    expireUploadUriAfterBytes(uri, bytes) {
      assertOpen();
      byteBudgets.set(new URL(uri).pathname, bytes);
    },

    async verifyCommittedContent(uri, expected) {
      assertOpen();
      // Before the first await: once the commit was answered, no write reaches the blob.
      const parsed = retire(uri);
      const sizes = checkExpectedSizes(expected);
      if (!sizes.ok) return sizes;
      const info = checkEncryptionInfo(expected.fileEncryptionInfo);
      if (!info.ok) return info;

      // Read with the account key, not the SAS: the real service validates after the upload URL may have expired.
      const blob = blockBlob(parsed);
      let committedBlocks: number;
      try {
        const list = await blob.getBlockList("all");
        committedBlocks = list.committedBlocks?.length ?? 0;
        const uncommitted = list.uncommittedBlocks?.length ?? 0;
        if (committedBlocks === 0 && uncommitted > 0) {
          return {
            ok: false,
            check: "blobNotCommitted",
            reason: `No block list was committed: the blob has ${uncommitted} uncommitted block(s) and no content (Put Block List missing or failed).`,
          };
        }
      } catch (e) {
        if (e instanceof RestError && e.statusCode === 404) {
          return { ok: false, check: "blobMissing", reason: "No blob was uploaded to the upload URL." };
        }
        throw e;
      }
      if (committedBlocks === 0) {
        return {
          ok: false,
          check: "blobNotCommitted",
          reason: "The blob has no committed block list: upload it with Put Block and Put Block List.",
        };
      }
      const properties = await blob.getProperties();
      const length = checkBlobLength(properties.contentLength ?? 0, expected.sizeEncrypted);
      if (!length.ok) return length;
      // ifMatch: the bytes verified are those whose length was just checked.
      const download = await blob.download(0, undefined, { conditions: { ifMatch: properties.etag } });
      const body = download.readableStreamBody;
      if (body === undefined) throw new Error("The storage SDK returned no body stream for a download.");
      try {
        return await verifyPayloadStream(body as AsyncIterable<Uint8Array>, expected, info.decoded);
      } finally {
        // Stops the transfer when verification ended early (header mismatch).
        const destroyable = body as NodeJS.ReadableStream & { destroy?: () => void };
        destroyable.destroy?.();
      }
    },

    async deleteBlob(uri) {
      assertOpen();
      const parsed = parseUploadUri(uri);
      retired.add(blobKey(new URL(uri).pathname));
      try {
        await blockBlob(parsed).deleteIfExists();
      } catch (e) {
        if (!(e instanceof RestError && e.statusCode === 404)) throw e; // container gone too
      }
      const containerClient = service.getContainerClient(parsed.container);
      await withContainerLock(parsed.container, async () => {
        if (!(await containerClient.exists())) return;
        const policies = await readPolicies(containerClient);
        const rest = policies.filter((p) => p.id !== parsed.policyId);
        if (rest.length !== policies.length) await containerClient.setAccessPolicy(undefined, rest);
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...locks.values()]);
      await server.close();
      // In memory, clean() frees the extents; on disk it would delete the persisted data, which must survive.
      if (inMemory) await server.clean();
    },
  };
}
