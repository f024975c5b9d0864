// Embedded Azure Storage for the local tenant: Azurite's blob service in this process, over HTTPS, handing out
// Intune-shaped upload URLs and verifying committed payloads (docs/reference/graph-win32-upload.md §2.5–2.7, §4 items
// 12–19; docs/reference/azurite.md §1). Four parts: boot (boot.ts), what runs before Azurite sees a request
// (interception.ts), upload URLs (upload-urls.ts) and the commit's verification (verification.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import {
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from "@azure/storage-blob";
import { ACCOUNT, ACCOUNT_KEY, bootAzurite } from "./boot.js";
import type { AzuriteOptions } from "./boot.js";
import { RequestGate } from "./interception.js";
import { UploadUrls } from "./upload-urls.js";
import { verifyCommittedBlob } from "./verification.js";
import type { ExpectedContent, VerificationResult } from "./verify-payload.js";

export { ACCOUNT, ACCOUNT_KEY } from "./boot.js";
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
  /** Writes `body` to `container`/`blobName` with the account key, streaming (a report's zip). */
  putBlob(container: string, blobName: string, body: Readable): Promise<void>;
  /**
   * A read-only SAS URL of the blob (`sp=r`, an expiry `se`, as a report's download URL); Azure Storage answers 403
   * AuthenticationFailed once it has expired.
   */
  readUrl(container: string, blobName: string, expiresOn: Date): string;
  close(): Promise<void>;
}

/** Azurite's (TLS material, the folder or the memory cap), and what the local tenant adds. */
export interface EmbeddedStorageOptions extends AzuriteOptions {
  /** Sees every request first (the local tenant's fault injection); true when it answered or dropped it. */
  intercept?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
  /** Upload URLs grant read (Get Block List) too; default true. See `EmbeddedStorage.setUploadSasRead`. */
  uploadSasRead?: boolean;
}

/** The storage SDK forwards `tlsOptions` to its HTTP pipeline but its options type does not declare it. */
function trustingPipeline(caPem: string): StoragePipelineOptions {
  // rejectUnauthorized explicit: NODE_TLS_REJECT_UNAUTHORIZED=0 never turns the check off.
  const options: StoragePipelineOptions & { tlsOptions: { ca: string; rejectUnauthorized: true } } = {
    tlsOptions: { ca: caPem, rejectUnauthorized: true },
  };
  return options;
}

/** Starts the embedded storage: Azurite behind the request gate, and the upload URLs it serves. */
export async function startEmbeddedStorage(opts: EmbeddedStorageOptions): Promise<EmbeddedStorage> {
  const azurite = await bootAzurite(opts);
  const blobEndpoint = `${azurite.origin}/${ACCOUNT}`;
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
  const service = new BlobServiceClient(blobEndpoint, credential, trustingPipeline(opts.tls.caCertPem));
  // The gate needs the URLs (to expire a policy) and the URLs the gate (to retire): the gate calls back lazily.
  const gate: RequestGate = new RequestGate(azurite.httpServer, {
    intercept: opts.intercept,
    expirePolicyOf: (requestUrl) => urls.expireRequestUrl(requestUrl),
  });
  const urls = new UploadUrls(service, credential, gate, blobEndpoint, opts.uploadSasRead !== false);
  let closed = false;
  const open = (): void => {
    if (closed) throw new Error("The embedded storage is closed.");
  };

  return {
    blobEndpoint,
    async createUploadUri({ container, blobName, expiresOn }) {
      open();
      return urls.create(container, blobName, expiresOn);
    },
    async renewUploadUri(uri, expiresOn) {
      open();
      await urls.renew(uri, expiresOn);
    },
    setUploadSasRead(read) {
      urls.read = read;
    },
    get uploadSasRead() {
      return urls.read;
    },
    retireUploadUri(uri) {
      open();
      urls.retire(uri);
    },
    async expireUploadUri(uri) {
      open();
      await urls.expire(uri);
    },
    expireUploadUriAfterBytes(uri, bytes) {
      open();
      urls.expireAfterBytes(uri, bytes);
    },
    async verifyCommittedContent(uri: string, expected: ExpectedContent): Promise<VerificationResult> {
      open();
      // Before the first await: once the commit was answered, no write reaches the blob. Read with the account key,
      // not the SAS: the real service validates after the upload URL may have expired.
      return verifyCommittedBlob(urls.blob(urls.retire(uri)), expected);
    },
    async deleteBlob(uri) {
      open();
      await urls.delete(uri);
    },
    async putBlob(container, blobName, body) {
      open();
      const c = service.getContainerClient(container);
      await c.createIfNotExists();
      await c.getBlockBlobClient(blobName).uploadStream(body, 4 * 1024 * 1024, 4);
    },
    readUrl(container, blobName, expiresOn) {
      open();
      const sas = generateBlobSASQueryParameters(
        {
          containerName: container,
          blobName,
          permissions: BlobSASPermissions.parse("r"),
          expiresOn,
          protocol: SASProtocol.Https,
        },
        credential,
      );
      const path = blobName.split("/").map(encodeURIComponent).join("/");
      return `${blobEndpoint}/${container}/${path}?${sas.toString()}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      await urls.settled();
      await azurite.close();
    },
  };
}
