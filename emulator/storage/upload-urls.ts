// Intune-shaped upload URLs (docs/reference/graph-win32-upload.md §2.5–2.6): a SAS tied to a stored access policy of
// its own, issued, renewed, expired and retired by changing that policy or through the request gate.
import { randomInt } from "node:crypto";
import {
  generateBlobSASQueryParameters,
  RestError,
  type BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  type SignedIdentifier,
  type StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { ACCOUNT } from "./boot.js";
import type { RequestGate } from "./interception.js";

/** Service version of real azureStorageUri values (§2.5). */
const SAS_VERSION = "2017-04-17";
/** Read (Get Block List, download), create, write (Put Block, Put Block List). */
const UPLOAD_PERMISSIONS = "rcw";
/** Create and write only: Get Block List answers 403 AuthorizationPermissionMismatch. */
const UPLOAD_PERMISSIONS_NO_READ = "cw";
/** Container naming rules of Azure Storage. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** A minute in the past: clear of clock granularity and of any start-time tolerance. */
const expiredNow = (): Date => new Date(Date.now() - 60_000);

export interface ParsedUploadUri {
  container: string;
  blobName: string;
  policyId: string;
}

function checkDate(d: Date, name: string): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new Error(`${name} is not a valid date.`);
}

export class UploadUrls {
  private readonly endpoint: URL;
  private readonly locks = new Map<string, Promise<unknown>>();
  private permissions: string;

  constructor(
    private readonly service: BlobServiceClient,
    private readonly credential: StorageSharedKeyCredential,
    private readonly gate: RequestGate,
    /** https://127.0.0.1:PORT/devstoreaccount1 */
    private readonly blobEndpoint: string,
    read: boolean,
  ) {
    this.endpoint = new URL(blobEndpoint);
    this.permissions = read ? UPLOAD_PERMISSIONS : UPLOAD_PERMISSIONS_NO_READ;
  }

  /** Whether URLs issued or renewed from now on grant read besides create and write. */
  get read(): boolean {
    return this.permissions === UPLOAD_PERMISSIONS;
  }

  set read(read: boolean) {
    this.permissions = read ? UPLOAD_PERMISSIONS : UPLOAD_PERMISSIONS_NO_READ;
  }

  /** A new URL for `container`/`blobName` (the container is created on demand), valid until `expiresOn`. */
  async create(container: string, blobName: string, expiresOn: Date): Promise<string> {
    checkDate(expiresOn, "expiresOn");
    if (!CONTAINER_NAME.test(container)) {
      throw new Error(`Invalid container name ${JSON.stringify(container)} (3–63 of a-z, 0-9 and single hyphens).`);
    }
    const parts = blobName.split("/");
    // Empty, "." and ".." segments would be lost or rewritten by URL normalisation.
    if (blobName.length > 1024 || parts.some((p) => p === "" || p === "." || p === "..")) {
      throw new Error(`Invalid blob name ${JSON.stringify(blobName)}.`);
    }
    const containerClient = this.service.getContainerClient(container);
    const policyId = await this.withContainerLock(container, async () => {
      await containerClient.createIfNotExists();
      const policies = await readPolicies(containerClient);
      // Real policy ids look like si=-132219447 (§2.5).
      let id: string;
      do id = String(randomInt(-2_147_483_648, 2_147_483_647));
      while (policies.some((p) => p.id === id));
      policies.push({ id, accessPolicy: { permissions: this.permissions, expiresOn } });
      await containerClient.setAccessPolicy(undefined, policies);
      return id;
    });
    const sas = generateBlobSASQueryParameters(
      { containerName: container, blobName, identifier: policyId, version: SAS_VERSION },
      this.credential,
    );
    const path = parts.map(encodeURIComponent).join("/");
    // Parameter order of real azureStorageUri values (§2.5).
    const query = `sv=${SAS_VERSION}&sr=b&si=${encodeURIComponent(policyId)}&sig=${encodeURIComponent(sas.signature)}`;
    return `${this.blobEndpoint}/${container}/${path}?${query}`;
  }

  /** The same URL valid again until `expiresOn`, with the current permissions; never a retired one. */
  async renew(uri: string, expiresOn: Date): Promise<void> {
    checkDate(expiresOn, "expiresOn");
    const parsed = this.parse(uri);
    if (this.gate.isRetired(new URL(uri).pathname))
      throw new Error("The upload URL was retired (its file was committed or deleted); it cannot be renewed.");
    await this.setPolicyExpiry(parsed, expiresOn, this.permissions);
  }

  /** The URL answers 403 from now on, until renewed. */
  async expire(uri: string): Promise<void> {
    await this.setPolicyExpiry(this.parse(uri), expiredNow());
  }

  /** The access policy a request's SAS names (`si=`) expires now. */
  async expireRequestUrl(requestUrl: string): Promise<void> {
    await this.setPolicyExpiry(this.parse(`${this.endpoint.origin}${requestUrl}`), expiredNow());
  }

  /** The URL expires once `bytes` of Put Block bodies were accepted. */
  expireAfterBytes(uri: string, bytes: number): void {
    this.gate.limitBytes(new URL(uri).pathname, bytes);
  }

  /**
   * Retired at once (synchronously: effective for the next request) and its policy expired in Azurite, so a
   * restarted disk-backed storage still refuses it.
   */
  retire(uri: string): ParsedUploadUri {
    const parsed = this.parse(uri);
    this.gate.retire(new URL(uri).pathname);
    void this.setPolicyExpiry(parsed, expiredNow()).catch(() => undefined);
    return parsed;
  }

  /** Retired, its blob (and uncommitted blocks) deleted and its access policy removed. */
  async delete(uri: string): Promise<void> {
    const parsed = this.parse(uri);
    this.gate.retire(new URL(uri).pathname);
    try {
      await this.blob(parsed).deleteIfExists();
    } catch (e) {
      if (!(e instanceof RestError && e.statusCode === 404)) throw e; // container gone too
    }
    const containerClient = this.service.getContainerClient(parsed.container);
    await this.withContainerLock(parsed.container, async () => {
      if (!(await containerClient.exists())) return;
      const policies = await readPolicies(containerClient);
      const rest = policies.filter((p) => p.id !== parsed.policyId);
      if (rest.length !== policies.length) await containerClient.setAccessPolicy(undefined, rest);
    });
  }

  /** The blob behind a URL, reached with the account key. */
  blob(parsed: ParsedUploadUri): BlockBlobClient {
    return this.service.getContainerClient(parsed.container).getBlockBlobClient(parsed.blobName);
  }

  /** Waits for the policy changes under way. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.locks.values()]);
  }

  parse(uri: string): ParsedUploadUri {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new Error(`Not an upload URL: ${JSON.stringify(uri)}.`);
    }
    if (url.origin !== this.endpoint.origin) throw new Error(`The URL ${url.origin} is not served by this storage.`);
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

  /** Sets one policy's expiry (and permissions, else kept), keeping the container's other policies (one per URL). */
  private async setPolicyExpiry(parsed: ParsedUploadUri, expiresOn: Date, permissions?: string): Promise<void> {
    const containerClient = this.service.getContainerClient(parsed.container);
    await this.withContainerLock(parsed.container, async () => {
      const policies = await readPolicies(containerClient);
      const index = policies.findIndex((p) => p.id === parsed.policyId);
      if (index < 0) {
        throw new Error(`The upload URL's access policy ${parsed.policyId} no longer exists (blob deleted?).`);
      }
      const kept = policies[index]?.accessPolicy?.permissions ?? this.permissions;
      policies[index] = { id: parsed.policyId, accessPolicy: { permissions: permissions ?? kept, expiresOn } };
      await containerClient.setAccessPolicy(undefined, policies);
    });
  }

  /** Serialises read-modify-write of a container's access policies (Set Container ACL replaces the whole list). */
  private withContainerLock<T>(container: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(container) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(container, settled);
    void settled.then(() => {
      if (this.locks.get(container) === settled) this.locks.delete(container);
    });
    return next;
  }
}

async function readPolicies(containerClient: ContainerClient): Promise<SignedIdentifier[]> {
  return (await containerClient.getAccessPolicy()).signedIdentifiers;
}
