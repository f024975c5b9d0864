import type { Command } from "../command.js";

/** Command name -> lazy loader. Multi-word names ("emulator start") are matched on the leading arguments. */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  package: {
    summary: "Package a setup folder into a .intunewin file",
    load: async () => (await import("./package.js")).default as unknown as Command,
  },
  unpack: {
    summary: "Verify, decrypt and extract a .intunewin file",
    load: async () => (await import("./unpack.js")).default as unknown as Command,
  },
  "emulator start": {
    summary: "Run the local tenant (Entra ID + Intune Graph + storage) on 127.0.0.1",
    load: async () => (await import("./emulator-start.js")).default as unknown as Command,
  },
  inspect: {
    summary: "Show the metadata of a .intunewin or .msi file",
    load: async () => (await import("./inspect.js")).default as unknown as Command,
  },
  "connect init": {
    summary: "Create or update a tenant profile (flags for scripts; prompts on a terminal)",
    load: async () => (await import("./connect-init.js")).default as unknown as Command,
  },
  "connect test": {
    summary: "Test sign-in, the six Graph permissions, live probes and credential expiry",
    load: async () => (await import("./connect-test.js")).default as unknown as Command,
  },
  "connect setup": {
    summary: "Print what an admin needs to create the app registration (permissions, CLI script, consent URL)",
    load: async () => (await import("./connect-setup.js")).default as unknown as Command,
  },
  publish: {
    summary: "Publish app definitions: create, update or leave each app so the tenant holds it exactly once",
    load: async () => (await import("./publish.js")).default as unknown as Command,
  },
  rollback: {
    summary: "Move an app's assignments and ESP membership back to a retained previous version",
    load: async () => (await import("./rollback.js")).default as unknown as Command,
  },
  "apps list": {
    summary: "List the tenant's Win32 apps (ours show their definition id)",
    load: async () => (await import("./apps-list.js")).default as unknown as Command,
  },
  "apps show": {
    summary: "Show one Win32 app by app id, name or definition id",
    load: async () => (await import("./apps-show.js")).default as unknown as Command,
  },
  "apps remove": {
    summary:
      "Delete a Win32 app (or every version of a definition) with its links and ESP membership, after a confirmation",
    load: async () => (await import("./apps-remove.js")).default as unknown as Command,
  },
};
