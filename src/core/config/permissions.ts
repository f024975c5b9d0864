/**
 * The six Microsoft Graph application permissions intune-publisher needs, their app-role ids, what each is used
 * for and the read-only probe that confirms it. Sources: docs/reference/entra-auth.md §4.1 (GUIDs), §4.4 (order),
 * docs/reference/graph-conventions.md §6.4 (endpoints); docs/reference/publisher-landscape.md §1.3 (used for).
 */

/** Microsoft Graph's application id (the `resourceAppId` of `requiredResourceAccess`). */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

export interface RequiredPermission {
  name: string;
  /** app role id (`type: "Role"`) */
  id: string;
  usedFor: string;
  /** other granted roles that also satisfy it (a ReadWrite role covers the Read one: §4.2) */
  satisfiedBy: readonly string[];
  /** GET path under the Graph base URL that needs this permission; `$top=1` keeps it cheap */
  probe: { path: string; what: string };
}

export const REQUIRED_PERMISSIONS: readonly RequiredPermission[] = [
  {
    name: "DeviceManagementApps.ReadWrite.All",
    id: "78145de6-330d-4800-a6ce-494ff2d33d07",
    usedFor: "create, update and delete Win32 apps, upload content, assign apps, supersedence and dependencies",
    satisfiedBy: [],
    probe: { path: "/deviceAppManagement/mobileApps?$top=1", what: "list one mobile app" },
  },
  {
    name: "DeviceManagementConfiguration.Read.All",
    id: "dc377aa6-52d8-4e23-b271-2a7ae04cedf3",
    usedFor: "resolve assignment filters by name",
    satisfiedBy: ["DeviceManagementConfiguration.ReadWrite.All"],
    probe: { path: "/deviceManagement/assignmentFilters?$top=1", what: "list assignment filters" },
  },
  {
    name: "DeviceManagementManagedDevices.Read.All",
    id: "2f51be20-0bb4-4fed-bf7b-db946066c75e",
    usedFor: "read detected apps (device inventory) for auto-publishing",
    satisfiedBy: ["DeviceManagementManagedDevices.ReadWrite.All"],
    probe: { path: "/deviceManagement/detectedApps?$top=1", what: "list detected apps" },
  },
  {
    name: "DeviceManagementRBAC.Read.All",
    id: "58ca0d9a-1575-47e1-a3cb-007ef2e4583b",
    usedFor: "resolve scope tags by name",
    satisfiedBy: ["DeviceManagementRBAC.ReadWrite.All"],
    probe: { path: "/deviceManagement/roleScopeTags?$top=1", what: "list scope tags" },
  },
  {
    name: "DeviceManagementServiceConfig.ReadWrite.All",
    id: "5ac13192-7ace-4fcf-b828-1a26f28068ee",
    usedFor: "read Enrollment Status Page profiles and add apps to them",
    satisfiedBy: [],
    probe: { path: "/deviceManagement/deviceEnrollmentConfigurations?$top=1", what: "list ESP profiles" },
  },
  {
    name: "GroupMember.Read.All",
    id: "98830695-27a2-44f7-8c18-0c3ebc9698f6",
    usedFor: "resolve assignment groups by name or id",
    satisfiedBy: ["Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    probe: { path: "/groups?$top=1&$select=id,displayName", what: "list one group" },
  },
];

export type PermissionState = "granted" | "satisfied" | "missing";

export interface PermissionCheck {
  permission: RequiredPermission;
  state: PermissionState;
  /** the granted role that satisfies it, when it is not the exact one */
  via: string | undefined;
}

/** Compares the token's `roles` with the six requirements (display and diagnosis only: §4.2). */
export function checkPermissions(roles: readonly string[]): PermissionCheck[] {
  const granted = new Set(roles);
  return REQUIRED_PERMISSIONS.map((permission) => {
    if (granted.has(permission.name)) return { permission, state: "granted" as const, via: undefined };
    const via = permission.satisfiedBy.find((r) => granted.has(r));
    return via === undefined
      ? { permission, state: "missing" as const, via: undefined }
      : { permission, state: "satisfied" as const, via };
  });
}

/** The `requiredResourceAccess` value of the app manifest / `az ad app create` (§4.4). */
export function requiredResourceAccess(): { resourceAppId: string; resourceAccess: { id: string; type: "Role" }[] }[] {
  return [
    {
      resourceAppId: GRAPH_APP_ID,
      resourceAccess: REQUIRED_PERMISSIONS.map((p) => ({ id: p.id, type: "Role" as const })),
    },
  ];
}
