/**
 * Intune's limits that we check before any Graph call (pre-flight validation). Each value names its
 * source; UNCONFIRMED ones are conservative readings of what other tools enforce.
 */
export const INTUNE_LIMITS = {
  /** "max 25" native detection rules: docs/reference/publisher-landscape.md §1.8 (Patch My PC Cloud), §5 item 10. */
  maxDetectionRules: 25,
  /** Same bound assumed for requirement rules (UNCONFIRMED: no source states it). */
  maxRequirementRules: 25,
  /**
   * The MSI product-code rule "can be added only once": docs/reference/graph-win32-upload.md §2.1 (Microsoft Learn,
   * apps-win32-add).
   */
  maxMsiDetectionRules: 1,
  /**
   * One PowerShell detection script, never combined with manual rules: §2.1 (IntuneWin32App, Microsoft's Intune
   * samples).
   */
  maxScriptDetectionRules: 1,
  /** `notes` ≤ 1024 characters: docs/reference/publisher-landscape.md §5 item 10. The ownership stamp counts. */
  maxNotesLength: 1024,
  /** installExperience.maxRunTimeInMinutes is validated 1–1440: §2.1 (IntuneWin32App). */
  minRunTimeInMinutes: 1,
  maxRunTimeInMinutes: 1440,
  /**
   * 30 GB (decimal) per app: docs/reference/graph-win32-upload.md §3 item 1 (the live value is
   * getPublishingConstraints).
   */
  maxContentFileSizeInBytes: 30_000_000_000,
  /** Icons over 1 MiB are skipped by IntuneGet, "Graph rejects large icons":
   * docs/reference/graph-win32-upload.md §3 item 18 (UNCONFIRMED).
   */
  maxIconBytes: 1024 * 1024,
} as const;
