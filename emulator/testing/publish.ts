/**
 * Test support: create a win32LobApp and take it to `published` through the real flow (content version, file,
 * upload with @azure/storage-blob, commit, committedContentVersion), driving the injected ManualClock. For tests
 * whose subject needs published apps (dependencies, ESP, deletion), not the upload itself.
 */
import { randomBytes } from "node:crypto";
import { BlockBlobClient } from "@azure/storage-blob";
import type { StoragePipelineOptions } from "@azure/storage-blob";
import type { Client } from "@microsoft/microsoft-graph-client";
import type { MobileAppContentFileWire, Win32LobAppWire } from "../../src/core/wire/graph.js";
import type { ManualClock } from "../clock.js";
import { DEFAULT_RETURN_CODES } from "../graph/model/defaults.js";
import type { LocalTenant } from "../server.js";
import type { CallLog } from "./clients.js";
import { encryptPayload } from "./payload.js";

const CAST = "microsoft.graph.win32LobApp";

/** The minimal EXE body of docs/reference/graph-win32-upload.md §2.1 (IntuneWin32App's New-IntuneWin32AppBody.ps1). */
export function win32AppBody(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "@odata.type": "#microsoft.graph.win32LobApp",
    displayName: name,
    description: name,
    publisher: "Contoso",
    displayVersion: "1.0",
    fileName: "setup.intunewin",
    setupFilePath: "setup.exe",
    installCommandLine: "setup.exe /S",
    uninstallCommandLine: "setup.exe /uninstall /S",
    installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress", maxRunTimeInMinutes: 60 },
    minimumSupportedWindowsRelease: "2H20",
    applicableArchitectures: "x64",
    detectionRules: [fileSystemDetection({ path: "%ProgramFiles%\\Contoso", fileOrFolderName: `${name}.exe` })],
    returnCodes: [{ returnCode: 0, type: "success" }],
    ...extra,
  };
}

/** A file-system detection rule ("7z.exe exists in %ProgramFiles%\\7-Zip"), with `overrides`. */
export function fileSystemDetection(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "@odata.type": "#microsoft.graph.win32LobAppFileSystemDetection",
    path: "%ProgramFiles%\\7-Zip",
    fileOrFolderName: "7z.exe",
    check32BitOn64System: false,
    detectionType: "exists",
    operator: "notConfigured",
    detectionValue: null,
    ...overrides,
  };
}

/**
 * The EXE create body IntuneWin32App's New-IntuneWin32AppBody.ps1 sends for 7-Zip: every property it writes, the five
 * default return codes, and `runAs32bit`, which the type does not have.
 */
export function sevenZipAppBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "@odata.type": "#microsoft.graph.win32LobApp",
    displayName: "7-Zip",
    description: "7-Zip",
    publisher: "Igor Pavlov",
    displayVersion: "24.08",
    developer: "",
    owner: "",
    notes: "",
    informationUrl: "",
    privacyInformationUrl: "",
    isFeatured: false,
    fileName: "7z2408-x64.intunewin",
    setupFilePath: "7z2408-x64.exe",
    installCommandLine: "7z2408-x64.exe /S",
    uninstallCommandLine: '"%ProgramFiles%\\7-Zip\\Uninstall.exe" /S',
    installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress", maxRunTimeInMinutes: 60 },
    minimumSupportedWindowsRelease: "2H20",
    applicableArchitectures: "x64,x86",
    msiInformation: null,
    runAs32bit: false,
    detectionRules: [fileSystemDetection()],
    returnCodes: DEFAULT_RETURN_CODES.map((c) => ({ ...c })),
    ...overrides,
  };
}

/**
 * Creates the app and publishes it. The tenant's `uploadDelays` must be small and driven by `clock`; each stage's
 * delay is passed by advancing the clock `stepMs` (default 10 s: more than any test's configured delay).
 */
export async function createPublishedApp(
  c: Client,
  lt: LocalTenant,
  clock: ManualClock,
  log: CallLog,
  name: string,
  stepMs = 10_000,
): Promise<string> {
  const app = (await c.api("/deviceAppManagement/mobileApps").post(win32AppBody(name))) as Win32LobAppWire;
  const base = `/deviceAppManagement/mobileApps/${app.id}/${CAST}/contentVersions`;
  const cv = (await c.api(base).post({})) as { id: string };
  const p = encryptPayload(randomBytes(64));
  const files = `${base}/${cv.id}/files`;
  const file = (await c.api(files).post({
    name: "IntunePackage.intunewin",
    size: p.size,
    sizeEncrypted: p.sizeEncrypted,
  })) as MobileAppContentFileWire;
  clock.advance(stepMs);
  const ready = (await c.api(`${files}/${file.id}`).get()) as MobileAppContentFileWire;
  const url = ready.azureStorageUri ?? "";
  log.check("BLOB", url);
  const options: StoragePipelineOptions & { tlsOptions: { ca: string } } = { tlsOptions: { ca: lt.caCertPem } };
  const blob = new BlockBlobClient(url, undefined, options);
  await blob.stageBlock("MDAwMA==", p.payload, p.payload.length);
  await blob.commitBlockList(["MDAwMA=="]);
  await c.api(`${files}/${file.id}/commit`).post({ fileEncryptionInfo: p.fileEncryptionInfo });
  await lt.admin.uploadsSettled();
  clock.advance(stepMs);
  const done = (await c.api(`${files}/${file.id}`).get()) as MobileAppContentFileWire;
  if (done.uploadState !== "commitFileSuccess") throw new Error(`commit of ${name} ended in ${done.uploadState}`);
  await c
    .api(`/deviceAppManagement/mobileApps/${app.id}`)
    .patch({ "@odata.type": "#microsoft.graph.win32LobApp", committedContentVersion: cv.id });
  return app.id;
}
