/**
 * Intune's limits that we check before any Graph call (issue 5 "Pre-flight validation"). Each value names its
 * source; UNCONFIRMED ones are conservative readings of what other tools enforce.
 */
export const INTUNE_LIMITS = {
  /** "max 25" native detection rules: feature-landscape.md §1.8 [PC6], §5 item 10. */
  maxDetectionRules: 25,
  /** Same bound assumed for requirement rules (UNCONFIRMED: no source states it). */
  maxRequirementRules: 25,
  /** The MSI product-code rule "can be added only once": intune-win32-protocol.md §2.1 [S7]. */
  maxMsiDetectionRules: 1,
  /** One PowerShell detection script, never combined with manual rules: §2.1 [S1, S4]. */
  maxScriptDetectionRules: 1,
  /** `notes` ≤ 1024 characters: feature-landscape.md §5 item 10. The ownership stamp counts. */
  maxNotesLength: 1024,
  /** installExperience.maxRunTimeInMinutes is validated 1–1440: §2.1 [S1]. */
  minRunTimeInMinutes: 1,
  maxRunTimeInMinutes: 1440,
  /** 30 GB (decimal) per app: §3 item 1 (the live value is getPublishingConstraints). */
  maxContentFileSizeInBytes: 30_000_000_000,
  /** Icons over 1 MiB are skipped by IntuneGet, "Graph rejects large icons": §3 item 18 (UNCONFIRMED). */
  maxIconBytes: 1024 * 1024,
} as const;
