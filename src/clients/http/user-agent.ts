/**
 * Who we are on the wire: `intune-publisher/<version> Node.js/<version> (<platform>; <arch>)`, sent by the
 * transport on every request that does not set its own (Graph, sign-in through our transport, blob storage), so a
 * tenant's sign-in and audit logs, Microsoft support and a proxy's logs can tell our calls apart. No tenant, user or
 * machine name in it.
 */
import { readFileSync } from "node:fs";

let version: string | undefined;

/** The version in our package.json, found above this file whether it runs from src/ or dist/src/; read once. */
export function packageVersion(): string {
  version ??= readVersion();
  return version;
}

function readVersion(): string {
  for (const up of ["../../../package.json", "../../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version: string };
      if (pkg.name === "intune-publisher") return pkg.version;
    } catch {
      // not at this level
    }
  }
  return "unknown";
}

/** The User-Agent, built when a transport is first made (not when this module loads). */
export function userAgent(): string {
  return `intune-publisher/${packageVersion()} Node.js/${process.versions.node} (${process.platform}; ${process.arch})`;
}
