/**
 * Fixture builders: packages made by our packager, a copy of the example apps, a minimal valid win32LobApp created
 * through our Graph client, and synthetic storage answers. Files made by other tools are under test/fixtures/
 * (`fixture()` in paths.ts).
 */
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GraphClient } from "../../src/clients/graph/client.js";
import type { HttpRequest, HttpResponse } from "../../src/clients/http/types.js";
import type { Win32LobAppWire } from "../../src/core/wire/graph.js";
import type { ProductInput } from "../../emulator/vendor/seed.js";
import { loadAppDefinitions } from "../../src/definitions/load.js";
import type { LoadedAppDefinition } from "../../src/definitions/load.js";
import { packageFolder } from "../../src/intunewin/package.js";
import type { PackageResult } from "../../src/intunewin/package.js";
import { repoRoot } from "./paths.js";

/** A package of `bytes` random (incompressible) bytes plus a setup script, made by our packager. */
export async function makePackage(dir: string, bytes: number, name = "setup"): Promise<PackageResult> {
  const source = join(dir, `${name}-source`);
  await mkdir(source, { recursive: true });
  await writeFile(join(source, "install.ps1"), "Write-Output 'installing'\r\n");
  await writeFile(join(source, "data.bin"), randomBytes(bytes));
  return packageFolder({ sourceDir: source, setupFile: "install.ps1", outDir: join(dir, `${name}-out`) });
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "ip-upload-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A minimal valid win32LobApp (docs/reference/graph-win32-upload.md), created through our client. */
export async function createApp(
  graph: GraphClient,
  name = "Contoso Upload Test",
  fileName = "setup.intunewin",
): Promise<string> {
  const app = await graph.post<Win32LobAppWire>("/deviceAppManagement/mobileApps", {
    "@odata.type": "#microsoft.graph.win32LobApp",
    displayName: name,
    publisher: "Contoso",
    fileName,
    setupFilePath: "install.ps1",
    installCommandLine: "powershell.exe -ExecutionPolicy Bypass -File install.ps1",
    uninstallCommandLine: "powershell.exe -ExecutionPolicy Bypass -File uninstall.ps1",
    installExperience: { runAsAccount: "system", deviceRestartBehavior: "suppress", maxRunTimeInMinutes: 60 },
    detectionRules: [
      {
        "@odata.type": "#microsoft.graph.win32LobAppRegistryDetection",
        check32BitOn64System: false,
        keyPath: "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\UploadTest",
        valueName: "Version",
        detectionType: "version",
        operator: "equal",
        detectionValue: "1.0.0",
      },
    ],
  });
  return app.id;
}

export function getApp(graph: GraphClient, id: string): Promise<Win32LobAppWire> {
  return graph.get<Win32LobAppWire>(`/deviceAppManagement/mobileApps/${id}`);
}

/** A synthetic storage answer (as Azure sends it) for RecordingTransport `before` hooks. */
export function storageReply(req: HttpRequest, status: number, code: string, headers: Record<string, string> = {}) {
  return {
    status,
    headers: { "x-ms-error-code": code, "x-ms-request-id": "00000000-0000-0000-0000-0000000000aa", ...headers },
    bodyText: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>Injected.\nRequestId:x</Message></Error>`,
    request: req,
  } satisfies HttpResponse;
}

/**
 * A copy of examples/apps in `root/apps` (returned as `dir`) and of the shared targeting files they reference in
 * `root/targeting`, with fabrikam-agent's prebuilt package built.
 */
export async function copyExamples(root: string): Promise<{ dir: string; files: string[] }> {
  const dir = join(root, "apps");
  await cp(join(repoRoot(), "examples", "apps"), dir, { recursive: true });
  await cp(join(repoRoot(), "examples", "targeting"), join(root, "targeting"), { recursive: true }).catch(
    (e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    },
  );
  await packageFolder({
    sourceDir: join(dir, "fabrikam-agent", "payload"),
    setupFile: "install.cmd",
    outDir: join(dir, "fabrikam-agent", "dist"),
  });
  const files = (await readdir(dir))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(dir, f));
  return { dir, files };
}

export function load(files: readonly string[]): Promise<LoadedAppDefinition[]> {
  return loadAppDefinitions(files);
}

/** A vendor-host product with an x64 and an arm64 installer of one version (two subscriptions of one product). */
export const DUAL_ARCH_PRODUCT: ProductInput = {
  id: "Contoso.Dual",
  name: "Dual",
  publisher: "Contoso",
  versions: [
    {
      version: "1.0",
      installers: [
        { architecture: "x64", type: "nullsoft", content: { text: "Contoso.Dual x64\n" } },
        { architecture: "arm64", type: "nullsoft", content: { text: "Contoso.Dual arm64\n" } },
      ],
    },
  ],
};
