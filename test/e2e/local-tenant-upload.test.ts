// End to end on the local tenant: a package made by our packager, a token from msal-node, the Graph upload
// flow driven by Microsoft's Graph JS client, content uploaded with @azure/storage-blob, and the emulator's
// commit really verifying the blob (the full upload and commit path with a package made by our packager).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { BlockBlobClient, type StoragePipelineOptions } from "@azure/storage-blob";
import type { Client } from "@microsoft/microsoft-graph-client";
import type { LocalTenant } from "../../emulator/server.js";
import { startLocalTestTenant } from "../support/tenant.js";
import { CallLog, TrustingNetworkClient } from "../../emulator/testing/clients.js";
import { graphClient } from "../../emulator/testing/graph-client.js";
import type { MobileAppContentFileWire, Win32LobAppWire } from "../../src/core/wire/graph.js";
import { packageFolder, type PackageResult } from "../../src/intunewin/package.js";
import { openPackage } from "../../src/intunewin/read.js";
import { repoRoot } from "../support/paths.js";

const CAST = "microsoft.graph.win32LobApp";

async function waitFor<T>(
  what: string,
  get: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function payloadOf(path: string): Promise<Buffer> {
  const pkg = await openPackage(path);
  const chunks: Buffer[] = [];
  for await (const c of await pkg.openPayload()) chunks.push(c as Buffer);
  pkg.close();
  return Buffer.concat(chunks);
}

describe("our package through the local tenant's upload flow", () => {
  let lt: LocalTenant;
  let graph: Client;
  let work: string;
  let pkg: PackageResult;
  const log = new CallLog();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "ip-e2e-"));
    pkg = await packageFolder({
      sourceDir: join(repoRoot(), "examples", "hello-app", "source"),
      setupFile: "install.ps1",
      outDir: work,
    });
    lt = await startLocalTestTenant({ uploadDelays: { sasIssueMs: 30, renewalMs: 30, commitMs: 30 } });
    const msal = new ConfidentialClientApplication({
      auth: {
        clientId: lt.clientId,
        clientSecret: lt.clientSecret!,
        authority: lt.authority,
        knownAuthorities: [lt.host],
        authorityMetadata: lt.authorityMetadata,
      },
      system: { networkClient: new TrustingNetworkClient(lt.caCertPem, log) },
    });
    const getToken = async (): Promise<string> =>
      (await msal.acquireTokenByClientCredential({ scopes: [`${lt.tokenAudience}/.default`] }))!.accessToken;
    graph = graphClient({ origin: lt.authorityHost, caPem: lt.caCertPem, log, getToken });
  });
  after(async () => {
    await lt.close();
    await rm(work, { recursive: true, force: true });
  });

  const blobClient = (url: string): BlockBlobClient => {
    const options: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: lt.caCertPem } };
    return new BlockBlobClient(url, undefined, options);
  };
  const fileBody = () => ({
    "@odata.type": "#microsoft.graph.mobileAppContentFile",
    name: "IntunePackage.intunewin",
    size: pkg.unencryptedContentSize,
    sizeEncrypted: pkg.encryptedSize,
    isDependency: false,
  });
  const wireEncryptionInfo = (e: typeof pkg.detection.EncryptionInfo) => ({
    encryptionKey: e.EncryptionKey,
    macKey: e.MacKey,
    initializationVector: e.InitializationVector,
    mac: e.Mac,
    profileIdentifier: e.ProfileIdentifier,
    fileDigest: e.FileDigest,
    fileDigestAlgorithm: e.FileDigestAlgorithm,
  });
  const appBody = () => ({
    "@odata.type": "#microsoft.graph.win32LobApp",
    displayName: "Contoso Hello App",
    publisher: "Contoso",
    fileName: "install.intunewin",
    setupFilePath: pkg.setupFile,
    installCommandLine: "powershell.exe -ExecutionPolicy Bypass -File install.ps1",
    uninstallCommandLine: "powershell.exe -ExecutionPolicy Bypass -File uninstall.ps1",
    installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress", maxRunTimeInMinutes: 60 },
    detectionRules: [
      {
        "@odata.type": "#microsoft.graph.win32LobAppRegistryDetection",
        check32BitOn64System: false,
        keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\HelloApp",
        valueName: "Version",
        detectionType: "version",
        operator: "equal",
        detectionValue: "1.0.0",
      },
    ],
  });

  async function upload(payload: Buffer, encryptionInfo = pkg.detection.EncryptionInfo) {
    const app = (await graph.api("/deviceAppManagement/mobileApps").post(appBody())) as Win32LobAppWire;
    const base = `/deviceAppManagement/mobileApps/${app.id}/${CAST}/contentVersions`;
    const cv = (await graph.api(base).post({})) as { id: string };
    const file = (await graph.api(`${base}/${cv.id}/files`).post(fileBody())) as MobileAppContentFileWire;
    const fileUrl = `${base}/${cv.id}/files/${file.id}`;
    const getFile = async (): Promise<MobileAppContentFileWire> =>
      (await graph.api(fileUrl).get()) as MobileAppContentFileWire;
    const ready = await waitFor("the upload URL", getFile, (f) => f.uploadState === "azureStorageUriRequestSuccess");
    assert.match(ready.azureStorageUri!, /^https:\/\/127\.0\.0\.1:\d+\/.*\.intunewin\.bin\?sv=/);

    const blob = blobClient(ready.azureStorageUri!);
    const ids: string[] = [];
    const blockSize = 1024;
    for (let i = 0, n = 0; i < payload.length; i += blockSize, n++) {
      const id = Buffer.from(String(n).padStart(4, "0")).toString("base64");
      await blob.stageBlock(id, payload.subarray(i, i + blockSize), Math.min(blockSize, payload.length - i));
      ids.push(id);
    }
    await blob.commitBlockList(ids);
    await graph.api(`${fileUrl}/commit`).post({ fileEncryptionInfo: wireEncryptionInfo(encryptionInfo) });
    const final = await waitFor(
      "the commit",
      getFile,
      (f) => f.uploadState === "commitFileSuccess" || f.uploadState === "commitFileFailed",
    );
    return { app, cv, final, blocks: ids.length };
  }

  it("commits: the emulator verifies MAC, decryption and digest of the uploaded package, and the app publishes", async () => {
    const payload = await payloadOf(pkg.path);
    assert.equal(payload.length, pkg.encryptedSize);
    const { app, cv, final, blocks } = await upload(payload);
    assert.ok(blocks > 1, "uploaded in several blocks");
    assert.equal(final.uploadState, "commitFileSuccess");
    assert.equal(final.isCommitted, true);
    await graph
      .api(`/deviceAppManagement/mobileApps/${app.id}`)
      .patch({ "@odata.type": "#microsoft.graph.win32LobApp", committedContentVersion: cv.id });
    const published = (await graph.api(`/deviceAppManagement/mobileApps/${app.id}`).get()) as Win32LobAppWire;
    assert.equal(published.committedContentVersion, cv.id);
    assert.equal(published.publishingState, "published");
  });

  it("SAS expiry after N bytes (a fault): the block past the mark gets 403; renewUpload makes the same URL work", async () => {
    lt.admin.addUploadFault({ stage: "blockUpload", outcome: "sasExpiresAfterBytes", bytes: 2048, count: 1 });
    const payload = await payloadOf(pkg.path);
    const app = (await graph.api("/deviceAppManagement/mobileApps").post(appBody())) as Win32LobAppWire;
    const base = `/deviceAppManagement/mobileApps/${app.id}/${CAST}/contentVersions`;
    const cv = (await graph.api(base).post({})) as { id: string };
    const file = (await graph.api(`${base}/${cv.id}/files`).post(fileBody())) as MobileAppContentFileWire;
    const fileUrl = `${base}/${cv.id}/files/${file.id}`;
    const getFile = async (): Promise<MobileAppContentFileWire> =>
      (await graph.api(fileUrl).get()) as MobileAppContentFileWire;
    const ready = await waitFor("the upload URL", getFile, (f) => f.uploadState === "azureStorageUriRequestSuccess");
    const blob = blobClient(ready.azureStorageUri!);
    const block = (n: number): Buffer => payload.subarray(n * 1024, (n + 1) * 1024);
    const id = (n: number): string => Buffer.from(String(n).padStart(4, "0")).toString("base64");
    await blob.stageBlock(id(0), block(0), 1024);
    await blob.stageBlock(id(1), block(1), 1024);
    await assert.rejects(blob.stageBlock(id(2), block(2), 1024), (e: { statusCode?: number }) => e.statusCode === 403);
    await graph.api(`${fileUrl}/renewUpload`).post({});
    await waitFor("the renewal", getFile, (f) => f.uploadState === "azureStorageUriRenewalSuccess");
    const ids: string[] = [];
    for (let n = 0; n * 1024 < payload.length; n++) {
      if (n >= 2) await blob.stageBlock(id(n), block(n), block(n).length);
      ids.push(id(n));
    }
    await blob.commitBlockList(ids);
    await graph.api(`${fileUrl}/commit`).post({ fileEncryptionInfo: wireEncryptionInfo(pkg.detection.EncryptionInfo) });
    const final = await waitFor(
      "the commit",
      getFile,
      (f) => f.uploadState.startsWith("commitFile") && f.uploadState !== "commitFilePending",
    );
    assert.equal(final.uploadState, "commitFileSuccess", "blocks staged before the expiry were kept");
  });

  it("fails the commit (asynchronously) when one byte of the uploaded package was altered", async () => {
    const payload = await payloadOf(pkg.path);
    payload[payload.length - 5]! ^= 0x40;
    const { final } = await upload(payload);
    assert.equal(final.uploadState, "commitFileFailed");
  });

  it("fails the commit when the encryption info belongs to another package", async () => {
    const other = await packageFolder({
      sourceDir: join(repoRoot(), "examples", "hello-app", "source"),
      setupFile: "install.ps1",
      outDir: join(work, "other"),
    });
    const { final } = await upload(await payloadOf(pkg.path), other.detection.EncryptionInfo);
    assert.equal(final.uploadState, "commitFileFailed");
    assert.ok(
      log.calls.every((c) => new URL(c.url).hostname === "127.0.0.1"),
      "nothing left the machine",
    );
  });
});
