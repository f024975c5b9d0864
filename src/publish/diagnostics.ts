/**
 * The support bundle (`intune-publisher diagnostics`, the console's Diagnostics page): one zip a user can attach to
 * a support request. It holds the tool, Node and OS versions, the settings and profiles (no secret: secrets live in
 * their own files, which are never read into it except to be redacted), the connection test's JSON (a failure is
 * recorded, not fatal), the last run logs and sync runs, and the local tenant's state summary. Every entry goes
 * through the run-log redactor again on the way out (the secrets of the secrets folder, registered, and every
 * credential shape), plus a net for secret-named JSON fields.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { open, readdir, rename, rm, stat } from "node:fs/promises";
import { arch, platform, release } from "node:os";
import { basename, join } from "node:path";
import { proxyLabel } from "../clients/http/errors.js";
import { defaultLogDir } from "../clients/http/log-file.js";
import { REDACTED, SecretRegistry, scrubShapes } from "../clients/http/redact.js";
import { packageVersion } from "../clients/http/user-agent.js";
import { PublisherError, isPublisherError } from "../core/errors.js";
import { crc32 } from "../intunewin/crc32.js";
import { centralHeader, dosDateTime, endOfCentralDirectory, localHeader } from "../intunewin/zip-format.js";
import type { ZipEntry } from "../intunewin/zip-format.js";
import { readBoundedFile, readBoundedText } from "../platform/fs.js";
import type { ConfigPaths } from "../core/config/profile.js";
import { readProfilesFile } from "./connect/config-store.js";
import { defaultHistoryFile, SyncHistory } from "./sync/history.js";

/** Limits of what the bundle reads (docs/limits.md). */
export const BUNDLE_LIMITS = {
  /** run logs taken, newest first */
  logs: 5,
  /** a run log larger than this is left out (named in the bundle) */
  logBytes: 8 * 1024 * 1024,
  /** a secrets-folder file read to register its value for redaction */
  secretFileBytes: 64 * 1024,
  /** sync runs taken from the history */
  syncRuns: 20,
} as const;

export interface BundleInput {
  env: NodeJS.ProcessEnv;
  /** the profiles file and its secrets folder */
  config: ConfigPaths;
  /** the local tenant's state folder */
  stateDir: string;
  /** the folder of the user's state (the sync history) */
  userStateDir: string;
  /** runs the connection test (with its own short timeout); a throw is recorded */
  connectionTest: () => Promise<unknown>;
  /** whether the target is the local tenant (then its state is summarised) */
  local: boolean;
  now?: Date;
}

export interface BundleEntry {
  name: string;
  data: Buffer;
}

const json = (v: unknown): string => JSON.stringify(v, null, 2) + "\n";

/** `"…key|secret|password|token|assertion|signature…": "value"` in JSON text: the value, redacted. */
const SECRET_MEMBER =
  /("[^"\\]*(?:key|secret|password|passwd|token|assertion|signature|sig|credential|digest|mac|vector)[^"\\]*"\s*:\s*")((?:[^"\\]|\\.)*)(")/gi;
const NOT_SECRET_MEMBERS = /^"(?:credentialType|tokenFile|keyPath|secretFile|passwordFile|tokenAudience|expiresOn)"/i;

function scrubMembers(text: string): string {
  return text.replace(SECRET_MEMBER, (whole, head: string, value: string, tail: string) =>
    NOT_SECRET_MEMBERS.test(head) || value === REDACTED || value === "" ? whole : `${head}${REDACTED}${tail}`,
  );
}

/** The bundle's entries, every one redacted. */
export async function collectSupportBundle(input: BundleInput): Promise<BundleEntry[]> {
  const secrets = new SecretRegistry();
  // The stored secrets (client secret, proxy password, certificate password files): registered, never included.
  for (const name of await readdir(input.config.secretsDir).catch(() => [] as string[])) {
    const bytes = await readBoundedFile({
      path: join(input.config.secretsDir, name),
      what: "secret file",
      maxBytes: BUNDLE_LIMITS.secretFileBytes,
    }).catch(() => undefined);
    const text = bytes?.toString("utf8").trim();
    if (text) secrets.add(text);
  }
  for (const name of ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD"]) secrets.add(input.env[name]);
  for (const name of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]) secrets.addFromUrl(input.env[name]);
  const clean = (text: string): string => scrubMembers(secrets.scrub(scrubShapes(text)));

  const entries: { name: string; text: string }[] = [];
  const now = input.now ?? new Date();
  entries.push({
    name: "about.json",
    text: json({
      createdAt: now.toISOString(),
      tool: { name: "intune-publisher", version: packageVersion() },
      node: process.versions.node,
      os: { platform: platform(), release: release(), arch: arch() },
    }),
  });

  let profiles: unknown;
  try {
    const file = await readProfilesFile(input.config);
    profiles =
      file === undefined
        ? null
        : {
            ...file,
            profiles: Object.fromEntries(
              Object.entries(file.profiles).map(([name, p]) => [
                name,
                { ...p, ...(p.proxy === undefined ? {} : { proxy: proxyLabel(p.proxy) }) },
              ]),
            ),
          };
  } catch (e) {
    profiles = { error: describe(e) };
  }
  const setOrNot = (name: string): string | undefined => (input.env[name] === undefined ? undefined : "set");
  const label = (name: string): string | undefined => {
    const v = input.env[name];
    return v === undefined ? undefined : proxyLabel(v);
  };
  entries.push({
    name: "settings.json",
    text: json({
      profilesFile: input.config.file,
      profiles,
      environment: {
        AZURE_TENANT_ID: input.env["AZURE_TENANT_ID"],
        AZURE_CLIENT_ID: input.env["AZURE_CLIENT_ID"],
        AZURE_AUTHORITY_HOST: input.env["AZURE_AUTHORITY_HOST"],
        AZURE_CLIENT_SECRET: setOrNot("AZURE_CLIENT_SECRET"),
        AZURE_CLIENT_CERTIFICATE_PATH: input.env["AZURE_CLIENT_CERTIFICATE_PATH"],
        AZURE_FEDERATED_TOKEN_FILE: input.env["AZURE_FEDERATED_TOKEN_FILE"],
        HTTPS_PROXY: label("HTTPS_PROXY") ?? label("https_proxy"),
        NO_PROXY: input.env["NO_PROXY"] ?? input.env["no_proxy"],
      },
    }),
  });

  let connection: unknown;
  try {
    connection = await input.connectionTest();
  } catch (e) {
    connection = { failed: describe(e) };
  }
  entries.push({ name: "connection-test.json", text: json(connection) });

  const logDir = defaultLogDir(input.env);
  const logs: { name: string; mtime: number }[] = [];
  for (const name of await readdir(logDir).catch(() => [] as string[])) {
    const s = await stat(join(logDir, name)).catch(() => undefined);
    if (s?.isFile()) logs.push({ name, mtime: s.mtimeMs });
  }
  logs.sort((a, b) => b.mtime - a.mtime);
  for (const l of logs.slice(0, BUNDLE_LIMITS.logs)) {
    let text: string;
    try {
      text = await readBoundedText({ path: join(logDir, l.name), what: "run log", maxBytes: BUNDLE_LIMITS.logBytes });
    } catch (e) {
      text = `(left out: ${describe(e).message})\n`;
    }
    entries.push({ name: `logs/${basename(l.name)}`, text });
  }

  const historyFile = defaultHistoryFile(input.userStateDir);
  if (existsSync(historyFile)) {
    let runs: unknown;
    try {
      const h = SyncHistory.open(historyFile);
      try {
        runs = h.runs(BUNDLE_LIMITS.syncRuns);
      } finally {
        h.close();
      }
    } catch (e) {
      runs = { error: describe(e) };
    }
    entries.push({ name: "sync-history.json", text: json({ file: historyFile, runs }) });
  }

  if (input.local) {
    const files: { name: string; bytes: number }[] = [];
    for (const name of await readdir(input.stateDir).catch(() => [] as string[])) {
      const s = await stat(join(input.stateDir, name)).catch(() => undefined);
      if (s?.isFile()) files.push({ name, bytes: s.size });
    }
    entries.push({ name: "local-tenant.json", text: json({ stateDir: input.stateDir, files }) });
  }

  return entries.map((e) => ({ name: e.name, data: Buffer.from(clean(e.text), "utf8") }));
}

function describe(e: unknown): { code: string; message: string } {
  return isPublisherError(e)
    ? { code: e.code, message: e.message }
    : { code: "Unexpected", message: e instanceof Error ? e.message : String(e) };
}

/** The entries as a zip (stored, no compression): the repository's zip records (src/intunewin/zip-format.ts). */
export function zipEntries(entries: readonly BundleEntry[], now = new Date()): Buffer {
  const { dosTime, dosDate } = dosDateTime(now);
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const entry: ZipEntry = {
      name: Buffer.from(e.name, "utf8"),
      method: 0,
      flags: 0x0800,
      crc: crc32(e.data),
      compressedSize: e.data.length,
      uncompressedSize: e.data.length,
      dosTime,
      dosDate,
      versionMadeBy: 20,
      versionNeeded: 10,
      localHeaderOffset: offset,
    };
    const header = localHeader(entry);
    parts.push(header, e.data);
    central.push(centralHeader(entry));
    offset += header.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  return Buffer.concat([...parts, cd, endOfCentralDirectory(entries.length, cd.length, offset)]);
}

/** Writes the zip to `path` (0600, a temp file renamed into place); refuses an existing file unless `force`. */
export async function writeSupportBundle(path: string, zip: Buffer, force: boolean): Promise<void> {
  if (!force && existsSync(path))
    throw new PublisherError("Exists", `${path} already exists: not overwritten.`, {
      hint: "Choose another --out, or add --force to replace it.",
    });
  const temp = `${path}.${randomBytes(6).toString("hex")}.partial`;
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(zip);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await rm(temp, { force: true });
    throw e;
  }
  await handle.close();
  await rename(temp, path);
}
