/** Test support: the smallest valid app definition, and one parsed with some fields changed. */
import type { AppDefinition, AppDefinitionInput } from "../schema.js";
import { appDefinitionSchema } from "../schema.js";

export const MINIMAL_DEFINITION: AppDefinitionInput = {
  id: "contoso-tool",
  displayName: "Contoso Tool",
  publisher: "Contoso",
  version: "1.0.0",
  content: { source: "src", setupFile: "install.ps1" },
  install: { command: "install.cmd" },
  uninstall: { command: "uninstall.cmd" },
  detection: [{ type: "file", path: "%ProgramFiles%\\Contoso", fileOrFolderName: "tool.exe" }],
};

/** MINIMAL_DEFINITION with `over` applied, parsed (defaults filled). */
export function testDefinition(over: Partial<AppDefinitionInput> = {}): AppDefinition {
  return appDefinitionSchema.parse({ ...MINIMAL_DEFINITION, ...over });
}
