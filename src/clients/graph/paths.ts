/**
 * The Graph paths of the Intune and directory resources we use, relative to the version root (`…/beta`). Written
 * here once: the use cases call the typed endpoints (`intune.ts`, `content.ts`), never a path.
 */
export const GRAPH_PATHS = {
  mobileApps: "/deviceAppManagement/mobileApps",
  mobileAppCategories: "/deviceAppManagement/mobileAppCategories",
  enrollmentConfigurations: "/deviceManagement/deviceEnrollmentConfigurations",
  assignmentFilters: "/deviceManagement/assignmentFilters",
  roleScopeTags: "/deviceManagement/roleScopeTags",
  detectedApps: "/deviceManagement/detectedApps",
  managedDevices: "/deviceManagement/managedDevices",
  exportJobs: "/deviceManagement/reports/exportJobs",
  groups: "/groups",
} as const;

const under = (collection: string, id: string): string => `${collection}/${encodeURIComponent(id)}`;

export const mobileAppPath = (appId: string): string => under(GRAPH_PATHS.mobileApps, appId);
export const espProfilePath = (profileId: string): string => under(GRAPH_PATHS.enrollmentConfigurations, profileId);
export const groupPath = (groupId: string): string => under(GRAPH_PATHS.groups, groupId);
export const detectedAppPath = (id: string): string => under(GRAPH_PATHS.detectedApps, id);
/** `exportJobs('{id}')`, the key form of Microsoft's documentation (docs/reference/intune-reports.md) */
export const exportJobPath = (id: string): string =>
  `${GRAPH_PATHS.exportJobs}('${encodeURIComponent(id).replaceAll("'", "''")}')`;
