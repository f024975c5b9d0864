// A win32LobApp as Graph (beta) returns it: every property of the type, those never sent with their default, nested
// complex values with their `@odata.type` and their own defaults. Real Graph answers this way (observed: a GET holds
// `applicableArchitectures`, `installExperience.maxRunTimeInMinutes`, `msiInformation: null`, `roleScopeTagIds`, …
// whatever the create sent), and a client that compares what it sent with what it reads must cope with it.
//
// Property list: current beta metadata as generated into npm @microsoft/msgraph-beta-sdk 1.0.0-preview.81
// (models MobileApp, MobileLobApp, Win32LobApp, Win32LobAppInstallExperience, Win32LobAppMsiInformation). Defaults:
// the metadata's descriptions where they give one (maxRunTimeInMinutes 60, applicableArchitectures none,
// allowAvailableUninstall false), null for nullable properties, the first enum member for non-nullable enums
// (ODataLib's default); the five return codes are the admin center's defaults (docs/reference/graph-win32-upload.md
// §2.1, IntuneWin32App's Get-IntuneWin32AppDefaultReturnCode): which defaults the real service fills for a create
// without them is inference.

type Json = Record<string, unknown>;

const GRAPH = "#microsoft.graph.";

/** Admin-center default return codes (§2.1, as IntuneWin32App sends them). */
export const DEFAULT_RETURN_CODES: readonly { returnCode: number; type: string }[] = [
  { returnCode: 0, type: "success" },
  { returnCode: 1707, type: "success" },
  { returnCode: 3010, type: "softReboot" },
  { returnCode: 1641, type: "hardReboot" },
  { returnCode: 1618, type: "retry" },
];

/** Top-level properties and the value Graph returns when the app never set them (in the metadata's order). */
const TOP_LEVEL_DEFAULTS: Readonly<Json> = {
  // mobileApp
  description: null,
  publisher: null,
  largeIcon: null,
  isFeatured: false,
  privacyInformationUrl: null,
  informationUrl: null,
  owner: null,
  developer: null,
  notes: null,
  roleScopeTagIds: ["0"],
  // mobileLobApp
  committedContentVersion: null,
  fileName: null,
  size: 0,
  // win32LobApp
  installCommandLine: null,
  uninstallCommandLine: null,
  applicableArchitectures: "none",
  allowedArchitectures: null,
  minimumFreeDiskSpaceInMB: null,
  minimumMemoryInMB: null,
  minimumNumberOfProcessors: null,
  minimumCpuSpeedInMHz: null,
  minimumSupportedOperatingSystem: null,
  minimumSupportedWindowsRelease: null,
  msiInformation: null,
  setupFilePath: null,
  displayVersion: null,
  allowAvailableUninstall: false,
  activeInstallScript: null,
  activeUninstallScript: null,
};

/** installExperience members never sent: the enums' first members, the documented 60 minutes, in-use detection off. */
const INSTALL_EXPERIENCE_DEFAULTS: Readonly<Json> = {
  runAsAccount: "system",
  deviceRestartBehavior: "basedOnReturnCode",
  maxRunTimeInMinutes: 60,
  inUseBehavior: null,
};

const MSI_INFORMATION_DEFAULTS: Readonly<Json> = {
  productCode: null,
  productVersion: null,
  upgradeCode: null,
  requiresReboot: false,
  packageType: "perMachine",
  productName: null,
  publisher: null,
};

/** Keys some clients send that the type does not have (§2.1 "Extra keys"): accepted, never returned. */
const NOT_IN_THE_TYPE = ["runAs32bit", "runAs32Bit"];

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A complex value with its type annotation first and its missing members defaulted. */
function complex(value: unknown, type: string, defaults: Readonly<Json> = {}): unknown {
  if (!isObject(value)) return value;
  const out: Json = { "@odata.type": `${GRAPH}${type}` };
  for (const [k, v] of Object.entries(defaults)) out[k] = value[k] === undefined ? v : value[k];
  for (const [k, v] of Object.entries(value)) if (k !== "@odata.type" && !(k in out)) out[k] = v;
  return out;
}

/**
 * The stored app as Graph returns it. `list`: a collection response, which leaves `largeIcon` out (GET the app, or
 * `$select=largeIcon`, to read it; docs/publishing.md).
 */
export function win32LobAppAsReturned(app: Readonly<Json>, opts: { list?: boolean; selected?: string[] } = {}): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(app)) if (!NOT_IN_THE_TYPE.includes(k)) out[k] = v;
  for (const [k, v] of Object.entries(TOP_LEVEL_DEFAULTS)) if (out[k] === undefined) out[k] = structuredClone(v);
  out["installExperience"] = complex(
    out["installExperience"] === undefined ? {} : out["installExperience"],
    "win32LobAppInstallExperience",
    INSTALL_EXPERIENCE_DEFAULTS,
  );
  const codes = Array.isArray(out["returnCodes"]) ? out["returnCodes"] : DEFAULT_RETURN_CODES;
  out["returnCodes"] = codes.map((c) => complex(c, "win32LobAppReturnCode"));
  out["msiInformation"] = complex(out["msiInformation"], "win32LobAppMsiInformation", MSI_INFORMATION_DEFAULTS);
  out["largeIcon"] = complex(out["largeIcon"], "mimeContent");
  out["minimumSupportedOperatingSystem"] = complex(
    out["minimumSupportedOperatingSystem"],
    "windowsMinimumOperatingSystem",
  );
  // The rule collections of the style the app uses: `rules`, or the legacy pair (Graph's mirroring of one into the
  // other is not emulated; docs/emulator.md "Known differences").
  if (out["rules"] === undefined) {
    out["detectionRules"] ??= [];
    out["requirementRules"] ??= [];
  }
  if (opts.list && !(opts.selected ?? []).includes("largeIcon")) delete out["largeIcon"];
  return out;
}
