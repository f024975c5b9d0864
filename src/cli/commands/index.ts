import type { Command } from "../command.js";

/**
 * Command name -> lazy loader; everything else (summary, options, help) is in the command's file. Multi-word names
 * ("emulator start") are matched on the leading arguments; their first word is a group (`intune-publisher apps`
 * lists the group's commands).
 */
export const COMMANDS: Readonly<Record<string, () => Promise<{ default: Command }>>> = {
  package: () => import("./package.js"),
  unpack: () => import("./unpack.js"),
  inspect: () => import("./inspect.js"),
  "emulator start": () => import("./emulator-start.js"),
  "connect init": () => import("./connect-init.js"),
  "connect test": () => import("./connect-test.js"),
  "connect setup": () => import("./connect-setup.js"),
  publish: () => import("./publish.js"),
  rollback: () => import("./rollback.js"),
  "apps list": () => import("./apps-list.js"),
  "apps show": () => import("./apps-show.js"),
  "apps remove": () => import("./apps-remove.js"),
};

export async function loadCommand(name: string): Promise<Command> {
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load === undefined) throw new Error(`No command "${name}".`);
  return (await load()).default;
}
