/**
 * The seed's directory and device objects put into a tenant's state, with the properties Graph returns that the
 * seed leaves out (shapes: docs/reference/graph-conventions.md §6.4).
 */
import { ODATA_TYPE } from "../../src/core/wire/graph.js";
import type { Seed } from "../seed.js";
import type { TenantState } from "./repositories.js";

/** Puts the seed's entities into `t`, the state of `tenantId` (the seed's first tenant); `at` is now (ISO). */
export function loadSeedEntities(t: TenantState, seed: Seed, tenantId: string, at: string): void {
  for (const g of seed.groups) {
    t.groups.put({
      "@odata.type": "#microsoft.graph.group",
      description: null,
      mailEnabled: false,
      mailNickname: g.displayName.replace(/[^A-Za-z0-9]/g, "").toLowerCase() || "group",
      securityEnabled: true,
      groupTypes: [],
      createdDateTime: at,
      ...g,
    });
  }
  for (const f of seed.assignmentFilters) {
    t.assignmentFilters.put({
      "@odata.type": "#microsoft.graph.deviceAndAppManagementAssignmentFilter",
      description: "",
      roleScopeTags: ["0"],
      payloads: [],
      assignmentFilterManagementType: "devices",
      createdDateTime: at,
      lastModifiedDateTime: at,
      ...f,
    });
  }
  for (const tag of seed.roleScopeTags)
    t.roleScopeTags.put({ "@odata.type": "#microsoft.graph.roleScopeTag", description: "", ...tag });
  for (const p of seed.espProfiles) {
    t.enrollmentConfigurations.put({
      "@odata.type": ODATA_TYPE.espConfiguration,
      description: "",
      createdDateTime: at,
      lastModifiedDateTime: at,
      version: 1,
      roleScopeTagIds: ["0"],
      deviceEnrollmentConfigurationType: "windows10EnrollmentCompletionPageConfiguration",
      showInstallationProgress: true,
      blockDeviceSetupRetryByUser: false,
      allowDeviceResetOnInstallFailure: false,
      allowLogCollectionOnInstallFailure: false,
      customErrorMessage: "",
      installProgressTimeoutInMinutes: 60,
      allowDeviceUseOnInstallFailure: false,
      trackInstallProgressForAutopilotOnly: false,
      disableUserStatusTrackingAfterFirstUser: false,
      allowNonBlockingAppInstallation: false,
      installQualityUpdates: false,
      ...p,
    });
  }
  // A non-ESP configuration, so clients must filter by @odata.type as §6.4 says.
  t.enrollmentConfigurations.put({
    "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
    id: `${tenantId}_DefaultLimit`,
    displayName: "All users and all devices",
    description:
      "This is the default Device Limit Restriction applied with the lowest priority to all users regardless of group membership.",
    priority: 0,
    createdDateTime: at,
    lastModifiedDateTime: at,
    version: 1,
    roleScopeTagIds: ["0"],
    deviceEnrollmentConfigurationType: "limit",
    limit: 15,
  });
  for (const d of seed.managedDevices)
    t.managedDevices.put({ operatingSystem: "Windows", complianceState: "compliant", managementAgent: "mdm", ...d });
  if (Array.isArray(seed.detectedApps)) {
    for (const a of seed.detectedApps)
      t.detectedApps.put({ sizeInByte: 0, platform: "windows", publisher: "", ...a, deviceCount: a.deviceIds.length });
  }
}
