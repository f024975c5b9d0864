import type { Command } from "../command.js";

/**
 * Command name -> summary and lazy loader; everything else (options, help) is in the command's file. The summaries
 * live here so that `--help` and a group's listing load no command module. Multi-word names ("emulator start") are
 * matched on the leading arguments; their first word is a group (`intune-publisher apps` lists its commands).
 */
export const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<{ default: Command }> }>> = {
  package: {
    summary: "Package a setup folder into a .intunewin file",
    load: () => import("./package.js"),
  },
  unpack: {
    summary: "Verify, decrypt and extract a .intunewin file",
    load: () => import("./unpack.js"),
  },
  inspect: {
    summary: "Show the metadata of a .intunewin or .msi file",
    load: () => import("./inspect.js"),
  },
  "emulator start": {
    summary: "Run the local tenant: Entra ID + Intune Graph + blob storage on 127.0.0.1",
    load: () => import("./emulator-start.js"),
  },
  "connect init": {
    summary: "Create or update a tenant profile (flags for scripts; prompts only on a terminal)",
    load: () => import("./connect-init.js"),
  },
  "connect test": {
    summary: "Test the connection to a tenant: sign-in, the six Graph permissions, live probes, credential expiry",
    load: () => import("./connect-test.js"),
  },
  "connect setup": {
    summary:
      "Print what an admin needs to create the app registration: permissions JSON, Azure CLI script, consent URL",
    load: () => import("./connect-setup.js"),
  },
  publish: {
    summary: "Publish app definitions: create, update or leave each app so the tenant holds it exactly once",
    load: () => import("./publish.js"),
  },
  sync: {
    summary: "Keep subscribed catalog products up to date in the tenant (download, verify, package, publish)",
    load: () => import("./sync.js"),
  },
  diagnostics: {
    summary: "Write a support bundle (zip): versions, settings without secrets, connection test, last run logs",
    load: () => import("./diagnostics.js"),
  },
  worker: {
    summary: "Run the jobs of `sync --queue` from a Redis queue (BullMQ) until SIGTERM, on any number of machines",
    load: () => import("./worker.js"),
  },
  rollback: {
    summary: "Move an app's assignments and ESP membership back to a retained previous version",
    load: () => import("./rollback.js"),
  },
  inventory: {
    summary: "Apps installed on the tenant's devices by product: device counts, catalog match, outdated versions",
    load: () => import("./inventory.js"),
  },
  "apps list": {
    summary: "List the tenant's Win32 apps; those published by intune-publisher show their definition id",
    load: () => import("./apps-list.js"),
  },
  "apps show": {
    summary: "Show one Win32 app of the tenant by app id, name or definition id",
    load: () => import("./apps-show.js"),
  },
  "apps remove": {
    summary:
      "Delete a Win32 app (or every version of a definition) with its links and ESP membership, after a confirmation",
    load: () => import("./apps-remove.js"),
  },
  console: {
    summary: "Serve the web console on loopback: connection, apps, sync, catalog, inventory, diagnostics",
    load: () => import("./console.js"),
  },
  "catalog search": {
    summary: "Search a catalog source's package index (winget manifests, catalog entries) for products",
    load: () => import("./catalog-search.js"),
  },
  "catalog show": {
    summary: "Show the installer a product's manifest gives and the app definition it becomes, with every reason",
    load: () => import("./catalog-show.js"),
  },
  "catalog download": {
    summary: "Download a product's installer into the cache, verify its SHA-256, print its path and hash",
    load: () => import("./catalog-download.js"),
  },
  "catalog import": {
    summary: "Write products' app definitions with their verified installers into a new folder, ready to publish",
    load: () => import("./catalog-import.js"),
  },
};

export async function loadCommand(name: string): Promise<Command> {
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) throw new Error(`No command "${name}".`);
  return (await entry.load()).default;
}
