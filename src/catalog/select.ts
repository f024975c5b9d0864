/**
 * Which installer of a package becomes the Win32 app (docs/catalog.md "Installer choice"):
 *
 * 1. Types Intune's Win32 model cannot take are left out with the reason: msix/appx (Intune publishes those as
 *    MSIX line-of-business apps), msstore, portable, fonts, pwa, and a zip holding any of those; an installer with
 *    a manifest problem (winget's full-validation errors about it) is left out too.
 * 2. Scope: machine (the default) takes installers marked `machine` or unmarked; `user` (when asked) takes `user`
 *    or unmarked. A marked installer is preferred to an unmarked one of the same type.
 * 3. Architecture, in tiers: x64 (the default) takes x64, then neutral, and x86 only when no x64 or neutral
 *    installer is left after 1 and 2; arm64 takes arm64, then neutral, then x64 (Windows 11 runs x64 code on Arm),
 *    then x86; x86 takes x86, then neutral. An installer whose UnsupportedOSArchitectures names the requested one
 *    is left out. `arm` (32-bit Arm) is never used.
 * 4. Type, in the order msi, wix, burn, inno, nullsoft, exe, then a zip holding one of those.
 * 5. Locale: en-US, then none, then another English one, then any; then the manifest's order.
 */
import { catalogError } from "./errors.js";
import type { WingetInstaller, WingetManifest } from "./winget/manifest.js";
import type { InstallerType } from "./winget/schema.js";

export const REQUESTED_ARCHITECTURES = ["x64", "arm64", "x86"] as const;
export type RequestedArchitecture = (typeof REQUESTED_ARCHITECTURES)[number];
export const REQUESTED_SCOPES = ["machine", "user"] as const;
export type RequestedScope = (typeof REQUESTED_SCOPES)[number];

export interface SelectOptions {
  architecture?: RequestedArchitecture;
  scope?: RequestedScope;
}

export interface SkippedInstaller {
  /** Position in the manifest's Installers. */
  index: number;
  type: string;
  architecture: string;
  scope?: string;
  locale?: string;
  reason: string;
}

export interface Selection {
  chosen: WingetInstaller;
  architecture: RequestedArchitecture;
  scope: RequestedScope;
  skipped: SkippedInstaller[];
  /** Why the chosen one, in words. */
  reasons: string[];
}

/** The order of preference of installer types; a zip ranks after them all, by its nested type. */
export const TYPE_ORDER: readonly InstallerType[] = ["msi", "wix", "burn", "inno", "nullsoft", "exe"];

const TIERS: Record<RequestedArchitecture, readonly string[][]> = {
  x64: [["x64"], ["neutral"], ["x86"]],
  arm64: [["arm64"], ["neutral"], ["x64"], ["x86"]],
  x86: [["x86"], ["neutral"]],
};

/** Why an installer type cannot be a Win32 app, or undefined when it can. */
export function unsupportedReason(inst: WingetInstaller): string | undefined {
  const why: Partial<Record<InstallerType, string>> = {
    msix: "an MSIX package is not a Win32 installer: Intune publishes it as a line-of-business MSIX app, which this tool does not do",
    appx: "an APPX package is not a Win32 installer: Intune publishes it as a line-of-business app, which this tool does not do",
    msstore: "a Microsoft Store app is published in Intune as a Microsoft Store app (new), not as a Win32 app",
    portable:
      "a portable app has no installer (winget copies the file and adds a command alias); a Win32 app needs an installer with uninstall and detection",
    font: "fonts are installed by winget itself, not by an installer; a Win32 app needs an installer",
    pwa: "a progressive web app is not a Win32 installer",
  };
  if (inst.type === "zip") {
    if (inst.nestedType === undefined) return "a zip without NestedInstallerType: nothing to run inside it";
    const inner = why[inst.nestedType];
    return inner === undefined ? undefined : `a zip holding ${inner.replace(/^an? /, "a ")}`;
  }
  return why[inst.type];
}

function typeRank(inst: WingetInstaller): number {
  const i = TYPE_ORDER.indexOf(inst.effectiveType);
  return inst.type === "zip" ? TYPE_ORDER.length + Math.max(i, 0) : i === -1 ? 99 : i;
}

function localeRank(locale: string | undefined): number {
  if (locale === undefined) return 1;
  const l = locale.toLowerCase();
  if (l === "en-us") return 0;
  if (l === "en" || l.startsWith("en-")) return 2;
  return 3;
}

function describe(inst: WingetInstaller): string {
  return inst.type === "zip" ? `zip (${inst.nestedType ?? "?"})` : inst.type;
}

/** Chooses the installer; throws (kind input) listing every installer and why it was left out when none fits. */
export function selectInstaller(manifest: WingetManifest, options: SelectOptions = {}): Selection {
  const architecture = options.architecture ?? "x64";
  const scope = options.scope ?? "machine";
  const skipped = new Map<WingetInstaller, string>();
  const candidates: WingetInstaller[] = [];
  for (const inst of manifest.installers) {
    const unsupported = unsupportedReason(inst);
    if (inst.issues.length > 0) skipped.set(inst, `not usable: ${inst.issues.join("; ")}`);
    else if (unsupported !== undefined) skipped.set(inst, `unsupported for Win32: ${unsupported}`);
    else if (inst.architecture === "arm") skipped.set(inst, "32-bit Arm: Windows on Arm runs arm64, x64 and x86 code");
    else if (inst.unsupportedOSArchitectures.includes(architecture))
      skipped.set(inst, `its UnsupportedOSArchitectures excludes ${architecture} devices`);
    else if (inst.scope !== undefined && inst.scope !== scope)
      skipped.set(
        inst,
        scope === "machine"
          ? `installs per user (scope user); machine scope is used unless --scope user is asked`
          : `installs for the machine (scope machine); --scope user was asked`,
      );
    else candidates.push(inst);
  }
  const tiers = TIERS[architecture];
  const tierIndex = tiers.findIndex((archs) => candidates.some((c) => archs.includes(c.architecture)));
  for (const inst of candidates) {
    const t = tiers.findIndex((archs) => archs.includes(inst.architecture));
    if (t === -1)
      skipped.set(
        inst,
        `${inst.architecture} installer; ${architecture} was asked (--arch ${inst.architecture} picks it)`,
      );
  }
  if (tierIndex === -1) {
    const lines = manifest.installers.map(
      (i) =>
        `  Installers[${i.index}] ${describe(i)} ${i.architecture}${i.scope ? ` ${i.scope}` : ""}: ${skipped.get(i)}`,
    );
    const scopes = new Set(manifest.installers.filter((i) => unsupportedReason(i) === undefined).map((i) => i.scope));
    const hint =
      scope === "machine" && scopes.has("user") && !scopes.has("machine") && !scopes.has(undefined)
        ? "This product installs per user only: ask for --scope user (the app then installs as the signed-in user)."
        : "No installer of this product can be published as a Win32 app for these options; try another --arch, or describe the product in a catalog entry of your own (docs/catalog.md).";
    throw catalogError(
      "NoUsableInstaller",
      `${manifest.id} ${manifest.version} has no installer for ${architecture}, ${scope} scope that Intune can take as a Win32 app:\n${lines.join("\n")}`,
      hint,
    );
  }
  const archs = tiers[tierIndex]!;
  const pool = candidates.filter((c) => archs.includes(c.architecture));
  for (const inst of candidates) {
    if (pool.includes(inst) || skipped.has(inst)) continue;
    const t = tiers.findIndex((a) => a.includes(inst.architecture));
    skipped.set(
      inst,
      t > tierIndex
        ? `${inst.architecture} is a fallback, used only when no ${archs.join("/")} installer fits`
        : `${inst.architecture}: not preferred`,
    );
  }
  pool.sort(
    (a, b) =>
      typeRank(a) - typeRank(b) ||
      (a.scope === undefined ? 1 : 0) - (b.scope === undefined ? 1 : 0) ||
      localeRank(a.locale) - localeRank(b.locale) ||
      a.index - b.index,
  );
  const chosen = pool[0]!;
  for (const inst of pool.slice(1)) {
    let reason: string;
    if (typeRank(inst) !== typeRank(chosen))
      reason = `${describe(chosen)} is preferred to ${describe(inst)} (order: ${TYPE_ORDER.join(", ")}, then zip)`;
    else if ((inst.scope === undefined) !== (chosen.scope === undefined))
      reason = `the installer marked scope ${scope} is preferred to an unmarked one`;
    else if ((inst.locale ?? "") !== (chosen.locale ?? ""))
      reason = `locale ${inst.locale ?? "(none)"}: ${chosen.locale ?? "an installer without locale"} is preferred`;
    else reason = `Installers[${chosen.index}] comes first among equal installers`;
    skipped.set(inst, reason);
  }
  const reasons = [
    `${describe(chosen)} for ${chosen.architecture}${chosen.scope ? `, scope ${chosen.scope}` : ", no scope given (installs as the type decides)"}${chosen.locale ? `, locale ${chosen.locale}` : ""}: Installers[${chosen.index}] of ${manifest.installers.length}.`,
  ];
  if (chosen.architecture !== architecture)
    reasons.push(
      chosen.architecture === "neutral"
        ? `The installer is architecture-neutral; the app targets ${architecture} devices.`
        : `No ${architecture} installer fits, so the ${chosen.architecture} one is used on ${architecture} devices.`,
    );
  return {
    chosen,
    architecture,
    scope,
    reasons,
    skipped: manifest.installers
      .filter((i) => i !== chosen)
      .map((i) => {
        const s: SkippedInstaller = {
          index: i.index,
          type: describe(i),
          architecture: i.architecture,
          reason: skipped.get(i) ?? "not chosen",
        };
        if (i.scope !== undefined) s.scope = i.scope;
        if (i.locale !== undefined) s.locale = i.locale;
        return s;
      }),
  };
}
