/** A win32LobApp's rules, requirements and install behaviour written out for people (`apps show`). */
import type { DetectionRuleWire, RequirementRuleWire, RuleOperator, Win32LobAppWire } from "../core/wire/graph.js";

const OPERATOR: Record<RuleOperator, string> = {
  notConfigured: "",
  equal: "=",
  notEqual: "!=",
  greaterThan: ">",
  greaterThanOrEqual: ">=",
  lessThan: "<",
  lessThanOrEqual: "<=",
};

const DETECTION_WORDS: Record<string, string> = {
  sizeInMB: "size in MB",
  modifiedDate: "modified date",
  createdDate: "created date",
  dateTime: "date and time",
};

/** "exists", "version >= 2.4.1", "does not exist" */
function check(detectionType: string, operator: RuleOperator, value: string | null): string {
  if (detectionType === "exists") return "exists";
  if (detectionType === "doesNotExist") return "does not exist";
  const what = DETECTION_WORDS[detectionType] ?? detectionType;
  return operator === "notConfigured" ? what : `${what} ${OPERATOR[operator]} ${value ?? ""}`.trim();
}

const bit32 = (r: { check32BitOn64System?: boolean }): string =>
  r.check32BitOn64System ? " (32-bit view on 64-bit Windows)" : "";

function scriptText(r: { scriptContent: string; runAs32Bit: boolean; enforceSignatureCheck: boolean }): string {
  const bytes = Buffer.from(r.scriptContent, "base64").length;
  return `${bytes} bytes${r.runAs32Bit ? ", 32-bit" : ""}${r.enforceSignatureCheck ? ", signature checked" : ""}`;
}

export function detectionText(r: DetectionRuleWire): string {
  switch (r["@odata.type"]) {
    case "#microsoft.graph.win32LobAppFileSystemDetection":
      return `file ${r.path}\\${r.fileOrFolderName} ${check(r.detectionType, r.operator, r.detectionValue)}${bit32(r)}`;
    case "#microsoft.graph.win32LobAppRegistryDetection":
      return `registry ${r.keyPath}${r.valueName ? ` value ${r.valueName}` : ""} ${check(r.detectionType, r.operator, r.detectionValue)}${bit32(r)}`;
    case "#microsoft.graph.win32LobAppProductCodeDetection":
      return `MSI product code ${r.productCode}${r.productVersionOperator === "notConfigured" ? "" : ` with version ${OPERATOR[r.productVersionOperator]} ${r.productVersion ?? ""}`}`;
    case "#microsoft.graph.win32LobAppPowerShellScriptDetection":
      return `PowerShell script (${scriptText(r)})`;
    default:
      return String((r as { "@odata.type"?: unknown })["@odata.type"] ?? "unknown rule");
  }
}

export function requirementText(r: RequirementRuleWire): string {
  switch (r["@odata.type"]) {
    case "#microsoft.graph.win32LobAppFileSystemRequirement":
      return `file ${r.path}\\${r.fileOrFolderName} ${check(r.detectionType, r.operator, r.detectionValue)}${bit32(r)}`;
    case "#microsoft.graph.win32LobAppRegistryRequirement":
      return `registry ${r.keyPath}${r.valueName ? ` value ${r.valueName}` : ""} ${check(r.detectionType, r.operator, r.detectionValue)}${bit32(r)}`;
    case "#microsoft.graph.win32LobAppPowerShellScriptRequirement":
      return `PowerShell script "${r.displayName}" as ${r.runAsAccount} (${scriptText(r)}): output ${check(r.detectionType, r.operator, r.detectionValue)}`;
    default:
      return String((r as { "@odata.type"?: unknown })["@odata.type"] ?? "unknown rule");
  }
}

/** The requirements: Windows release, architectures, resources, then each requirement rule. */
export function requirementsText(app: Win32LobAppWire): string[] {
  const out: string[] = [];
  if (app.minimumSupportedWindowsRelease) out.push(`Windows release ${app.minimumSupportedWindowsRelease} or later`);
  const arch = app.allowedArchitectures || app.applicableArchitectures;
  if (arch && arch !== "none") out.push(`architectures ${arch.split(",").join(", ")}`);
  if (app.minimumFreeDiskSpaceInMB) out.push(`${app.minimumFreeDiskSpaceInMB} MB free disk space`);
  if (app.minimumMemoryInMB) out.push(`${app.minimumMemoryInMB} MB memory`);
  if (app.minimumNumberOfProcessors) out.push(`${app.minimumNumberOfProcessors} processors`);
  if (app.minimumCpuSpeedInMHz) out.push(`${app.minimumCpuSpeedInMHz} MHz CPU`);
  for (const r of app.requirementRules ?? []) out.push(requirementText(r));
  return out;
}

const RESTART: Record<string, string> = {
  basedOnReturnCode: "as the return code says",
  allow: "allowed",
  suppress: "suppressed",
  force: "forced",
};

/** Runs as, restart, time limit, return codes, uninstall from Company Portal. */
export function installBehaviourText(app: Win32LobAppWire): string {
  const x = app.installExperience;
  const parts: string[] = [];
  if (x) {
    parts.push(`runs as ${x.runAsAccount}`);
    parts.push(`device restart ${RESTART[x.deviceRestartBehavior] ?? x.deviceRestartBehavior}`);
    if (x.maxRunTimeInMinutes) parts.push(`at most ${x.maxRunTimeInMinutes} min`);
  }
  const codes = app.returnCodes ?? [];
  if (codes.length > 0) parts.push(`return codes ${codes.map((c) => `${c.returnCode} ${c.type}`).join(", ")}`);
  if (app.allowAvailableUninstall !== undefined)
    parts.push(`uninstall from Company Portal ${app.allowAvailableUninstall ? "allowed" : "not offered"}`);
  return parts.join("; ") || "-";
}
