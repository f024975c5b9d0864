/**
 * Application permissions each endpoint accepts (any one suffices): docs/reference/graph-conventions.md §6.4 and
 * docs/reference/graph-win32-upload.md §2.0. Intune's observed 403 lists only the DeviceManagementApps scopes for
 * mobileApps (docs/reference/entra-errors.md §2.3), so the local tenant does not also accept
 * DeviceManagementConfiguration.* there.
 */
export const APPS_READ = ["DeviceManagementApps.Read.All", "DeviceManagementApps.ReadWrite.All"] as const;
export const APPS_WRITE = ["DeviceManagementApps.ReadWrite.All"] as const;
export const CONFIG_READ = [
  "DeviceManagementConfiguration.Read.All",
  "DeviceManagementConfiguration.ReadWrite.All",
] as const;
export const RBAC_READ = [
  "DeviceManagementRBAC.Read.All",
  "DeviceManagementRBAC.ReadWrite.All",
  ...CONFIG_READ,
] as const;
export const SERVICE_CONFIG_READ = [
  "DeviceManagementServiceConfig.Read.All",
  "DeviceManagementServiceConfig.ReadWrite.All",
  ...CONFIG_READ,
] as const;
export const SERVICE_CONFIG_WRITE = [
  "DeviceManagementServiceConfig.ReadWrite.All",
  "DeviceManagementConfiguration.ReadWrite.All",
] as const;
export const DEVICES_READ = [
  "DeviceManagementManagedDevices.Read.All",
  "DeviceManagementManagedDevices.ReadWrite.All",
] as const;
export const GROUPS_READ = [
  "GroupMember.Read.All",
  "Group.Read.All",
  "Directory.Read.All",
  "Group.ReadWrite.All",
  "Directory.ReadWrite.All",
] as const;
