/**
 * JSON shapes on the wire between our Graph client and Microsoft Graph (or the local tenant).
 * Types only, no I/O. Sources: docs/reference/graph-win32-upload.md §2 and
 * docs/reference/entra-errors.md §2.3, docs/reference/graph-conventions.md §6.
 */

/**
 * `mobileAppContentFileUploadState`, every value of docs/reference/graph-win32-upload.md §2.9 (JSON carries the names).
 */
export const UPLOAD_STATES = [
  "success",
  "transientError",
  "error",
  "unknown",
  "azureStorageUriRequestSuccess",
  "azureStorageUriRequestPending",
  "azureStorageUriRequestFailed",
  "azureStorageUriRequestTimedOut",
  "azureStorageUriRenewalSuccess",
  "azureStorageUriRenewalPending",
  "azureStorageUriRenewalFailed",
  "azureStorageUriRenewalTimedOut",
  "commitFileSuccess",
  "commitFilePending",
  "commitFileFailed",
  "commitFileTimedOut",
] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

/**
 * `minimumSupportedWindowsRelease` values Graph accepts (docs/reference/graph-win32-upload.md §2.1; `v10_*` literals
 * are rejected, §4 item 6; IntuneGet PRs 203, 435).
 */
export const WINDOWS_RELEASES = [
  "1607",
  "1703",
  "1709",
  "1803",
  "1809",
  "1903",
  "1909",
  "2004",
  "2H20",
  "21H1",
  "Windows10_21H2",
  "Windows10_22H2",
  "Windows11_21H2",
  "Windows11_22H2",
  "Windows11_23H2",
] as const;

/** Numeric values of the enum (§2.9), for logs and support cases. */
export const UPLOAD_STATE_VALUES: Readonly<Record<UploadState, number>> = {
  success: 0,
  transientError: 1,
  error: 2,
  unknown: 3,
  azureStorageUriRequestSuccess: 100,
  azureStorageUriRequestPending: 101,
  azureStorageUriRequestFailed: 102,
  azureStorageUriRequestTimedOut: 103,
  azureStorageUriRenewalSuccess: 200,
  azureStorageUriRenewalPending: 201,
  azureStorageUriRenewalFailed: 202,
  azureStorageUriRenewalTimedOut: 203,
  commitFileSuccess: 300,
  commitFilePending: 301,
  commitFileFailed: 302,
  commitFileTimedOut: 303,
};

export const ODATA_TYPE = {
  win32LobApp: "#microsoft.graph.win32LobApp",
  mobileAppContent: "#microsoft.graph.mobileAppContent",
  mobileAppContentFile: "#microsoft.graph.mobileAppContentFile",
  fileEncryptionInfo: "#microsoft.graph.fileEncryptionInfo",
  mimeContent: "#microsoft.graph.mimeContent",
  mobileAppAssignment: "#microsoft.graph.mobileAppAssignment",
  mobileAppSupersedence: "#microsoft.graph.mobileAppSupersedence",
  mobileAppDependency: "#microsoft.graph.mobileAppDependency",
  espConfiguration: "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
} as const;

// ---- rules (docs/reference/graph-win32-upload.md §2.2) ----

export type RuleOperator =
  "notConfigured" | "equal" | "notEqual" | "greaterThan" | "greaterThanOrEqual" | "lessThan" | "lessThanOrEqual";

export interface FileSystemDetectionWire {
  "@odata.type": "#microsoft.graph.win32LobAppFileSystemDetection";
  path: string;
  fileOrFolderName: string;
  check32BitOn64System: boolean;
  detectionType: "notConfigured" | "exists" | "modifiedDate" | "createdDate" | "version" | "sizeInMB" | "doesNotExist";
  operator: RuleOperator;
  detectionValue: string | null;
}

export interface RegistryDetectionWire {
  "@odata.type": "#microsoft.graph.win32LobAppRegistryDetection";
  check32BitOn64System: boolean;
  keyPath: string;
  valueName: string | null;
  detectionType: "notConfigured" | "exists" | "doesNotExist" | "string" | "integer" | "version";
  operator: RuleOperator;
  detectionValue: string | null;
}

export interface ProductCodeDetectionWire {
  "@odata.type": "#microsoft.graph.win32LobAppProductCodeDetection";
  productCode: string;
  productVersionOperator: RuleOperator;
  productVersion: string | null;
}

export interface PowerShellScriptDetectionWire {
  "@odata.type": "#microsoft.graph.win32LobAppPowerShellScriptDetection";
  enforceSignatureCheck: boolean;
  runAs32Bit: boolean;
  /** base64 of the script text */
  scriptContent: string;
}

export type DetectionRuleWire =
  FileSystemDetectionWire | RegistryDetectionWire | ProductCodeDetectionWire | PowerShellScriptDetectionWire;

export interface FileSystemRequirementWire extends Omit<FileSystemDetectionWire, "@odata.type"> {
  "@odata.type": "#microsoft.graph.win32LobAppFileSystemRequirement";
}

export interface RegistryRequirementWire extends Omit<RegistryDetectionWire, "@odata.type"> {
  "@odata.type": "#microsoft.graph.win32LobAppRegistryRequirement";
}

export interface PowerShellScriptRequirementWire {
  "@odata.type": "#microsoft.graph.win32LobAppPowerShellScriptRequirement";
  operator: RuleOperator;
  detectionValue: string | null;
  displayName: string;
  enforceSignatureCheck: boolean;
  runAs32Bit: boolean;
  runAsAccount: "system" | "user";
  scriptContent: string;
  detectionType: "notConfigured" | "string" | "dateTime" | "integer" | "float" | "version" | "boolean";
}

export type RequirementRuleWire = FileSystemRequirementWire | RegistryRequirementWire | PowerShellScriptRequirementWire;

/** Unified `rules` collection (docs/reference/graph-win32-upload.md §2.2); each item carries `ruleType`. */
export interface Win32LobAppRuleWire {
  "@odata.type":
    | "#microsoft.graph.win32LobAppFileSystemRule"
    | "#microsoft.graph.win32LobAppRegistryRule"
    | "#microsoft.graph.win32LobAppProductCodeRule"
    | "#microsoft.graph.win32LobAppPowerShellScriptRule";
  ruleType: "detection" | "requirement";
  [property: string]: unknown;
}

// ---- win32LobApp (docs/reference/graph-win32-upload.md §2.1) ----

export type ReturnCodeType = "success" | "softReboot" | "hardReboot" | "retry" | "failed";

export interface ReturnCodeWire {
  returnCode: number;
  type: ReturnCodeType;
}

export interface InstallExperienceWire {
  runAsAccount: "system" | "user";
  deviceRestartBehavior: "basedOnReturnCode" | "allow" | "suppress" | "force";
  maxRunTimeInMinutes?: number;
}

export interface MsiInformationWire {
  productCode: string;
  productVersion: string;
  upgradeCode: string | null;
  requiresReboot: boolean;
  packageType: "perMachine" | "perUser" | "dualPurpose";
  productName: string | null;
  publisher: string | null;
}

export interface MimeContentWire {
  "@odata.type"?: "#microsoft.graph.mimeContent";
  type: string;
  /** base64 */
  value: string;
}

export type PublishingState = "notPublished" | "processing" | "published";

/** Writable properties of a win32LobApp (create / PATCH bodies). */
export interface Win32LobAppWritableWire {
  "@odata.type": "#microsoft.graph.win32LobApp";
  displayName: string;
  description?: string;
  publisher?: string;
  largeIcon?: MimeContentWire | null;
  isFeatured?: boolean;
  privacyInformationUrl?: string | null;
  informationUrl?: string | null;
  owner?: string;
  developer?: string;
  notes?: string;
  roleScopeTagIds?: string[];
  fileName: string;
  setupFilePath?: string;
  installCommandLine?: string;
  uninstallCommandLine?: string;
  installExperience?: InstallExperienceWire;
  returnCodes?: ReturnCodeWire[];
  /** comma list of `none`, `x86`, `x64`, `arm`, `neutral`, `arm64` */
  applicableArchitectures?: string;
  allowedArchitectures?: string | null;
  minimumSupportedWindowsRelease?: string;
  minimumFreeDiskSpaceInMB?: number | null;
  minimumMemoryInMB?: number | null;
  minimumNumberOfProcessors?: number | null;
  minimumCpuSpeedInMHz?: number | null;
  detectionRules?: DetectionRuleWire[];
  requirementRules?: RequirementRuleWire[];
  rules?: Win32LobAppRuleWire[];
  msiInformation?: MsiInformationWire | null;
  displayVersion?: string;
  allowAvailableUninstall?: boolean;
  committedContentVersion?: string | null;
}

/** A win32LobApp as Graph returns it: writable and read-only properties (docs/reference/graph-win32-upload.md §2.1). */
export interface Win32LobAppWire extends Win32LobAppWritableWire {
  id: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  uploadState: number;
  publishingState: PublishingState;
  isAssigned: boolean;
  dependentAppCount: number;
  supersedingAppCount: number;
  supersededAppCount: number;
  committedContentVersion: string | null;
  size: number;
  /** with `$expand=assignments` */
  assignments?: MobileAppAssignmentWire[];
  /** with `$expand=categories` */
  categories?: MobileAppCategoryWire[];
}

// ---- content (docs/reference/graph-win32-upload.md §2.3–2.7) ----

export interface MobileAppContentWire {
  "@odata.type"?: "#microsoft.graph.mobileAppContent";
  id: string;
}

export interface MobileAppContentFileCreateWire {
  "@odata.type"?: "#microsoft.graph.mobileAppContentFile";
  name: string;
  size: number;
  sizeEncrypted: number;
  manifest?: string | null;
  isDependency?: boolean;
}

export interface MobileAppContentFileWire {
  "@odata.type"?: "#microsoft.graph.mobileAppContentFile";
  id: string;
  name: string;
  size: number;
  sizeEncrypted: number;
  manifest: string | null;
  azureStorageUri: string | null;
  azureStorageUriExpirationDateTime: string | null;
  isCommitted: boolean;
  isDependency: boolean;
  isFrameworkFile?: boolean;
  createdDateTime: string;
  uploadState: UploadState;
}

/** Body of `commit` (§2.7): the Detection.xml strings, verbatim. */
export interface FileEncryptionInfoWire {
  "@odata.type"?: "#microsoft.graph.fileEncryptionInfo";
  encryptionKey: string;
  macKey: string;
  initializationVector: string;
  mac: string;
  profileIdentifier: "ProfileVersion1";
  fileDigest: string;
  fileDigestAlgorithm: "SHA256";
}

export interface CommitFileBodyWire {
  fileEncryptionInfo: FileEncryptionInfoWire;
}

// ---- assignments and relationships (§2.12, §2.13) ----

export type InstallIntent = "available" | "required" | "uninstall" | "availableWithoutEnrollment";

export interface AssignmentTargetWire {
  "@odata.type":
    | "#microsoft.graph.groupAssignmentTarget"
    | "#microsoft.graph.exclusionGroupAssignmentTarget"
    | "#microsoft.graph.allDevicesAssignmentTarget"
    | "#microsoft.graph.allLicensedUsersAssignmentTarget";
  groupId?: string;
  deviceAndAppManagementAssignmentFilterId?: string | null;
  deviceAndAppManagementAssignmentFilterType?: "none" | "include" | "exclude";
}

export interface MobileAppAssignmentWire {
  "@odata.type"?: "#microsoft.graph.mobileAppAssignment";
  id?: string;
  intent: InstallIntent;
  target: AssignmentTargetWire;
  settings?: Record<string, unknown> | null;
  source?: "direct" | "policySets";
  sourceId?: string | null;
}

export interface MobileAppRelationshipWriteWire {
  "@odata.type": "#microsoft.graph.mobileAppSupersedence" | "#microsoft.graph.mobileAppDependency";
  targetId: string;
  supersedenceType?: "update" | "replace";
  dependencyType?: "autoInstall" | "detect";
}

/** A row of `GET …/relationships` (§2.13): both directions, `targetType` saying which side the other app is on. */
export interface MobileAppRelationshipWire {
  "@odata.type": string;
  id?: string;
  sourceId?: string | null;
  targetId: string;
  targetDisplayName?: string | null;
  /** Graph's evolvable enum: a member added later arrives as unknownFutureValue */
  targetType: "child" | "parent" | "unknownFutureValue";
  /** evolvable enums (beta metadata): a member added later arrives as unknownFutureValue */
  supersedenceType?: "update" | "replace" | "unknownFutureValue";
  dependencyType?: "autoInstall" | "detect" | "unknownFutureValue";
}

// ---- what definitions name: groups, filters, scope tags, categories, ESP profiles ----

/** A directory group, as `$select=id,displayName` returns it. */
export interface GroupWire {
  id: string;
  displayName: string;
}

/** `devicePlatformType`: the platform of an assignment filter. */
export type DevicePlatformType =
  | "android"
  | "androidForWork"
  | "iOS"
  | "macOS"
  | "windowsPhone81"
  | "windows81AndLater"
  | "windows10AndLater"
  | "androidWorkProfile"
  | "unknown"
  | "androidAOSP"
  | "androidMobileApplicationManagement"
  | "iOSMobileApplicationManagement"
  | "unknownFutureValue"
  | "windowsMobileApplicationManagement";

/** `deviceAndAppManagementAssignmentFilter`: the fields we read. */
export interface AssignmentFilterWire {
  id: string;
  displayName: string;
  platform?: DevicePlatformType;
  rule?: string;
}

/** `roleScopeTag`: the fields we read. */
export interface RoleScopeTagWire {
  id: string;
  displayName: string;
  isBuiltIn?: boolean;
}

/** `mobileAppCategory` (also what `GET …/mobileApps/{id}/categories` lists). */
export interface MobileAppCategoryWire {
  id: string;
  displayName: string;
  lastModifiedDateTime?: string;
}

/**
 * An enrollment configuration as `deviceEnrollmentConfigurations` lists it; the Enrollment Status Page profiles are
 * the `windows10EnrollmentCompletionPageConfiguration` ones (`ODATA_TYPE.espConfiguration`).
 */
export interface EspProfileWire {
  "@odata.type": string;
  id: string;
  displayName: string;
  priority?: number;
  selectedMobileAppIds?: readonly string[] | null;
}

// ---- inventory ----

/** `detectedAppPlatformType` */
export type DetectedAppPlatformType =
  | "unknown"
  | "windows"
  | "windowsMobile"
  | "windowsHolographic"
  | "ios"
  | "macOS"
  | "chromeOS"
  | "androidOSP"
  | "androidDeviceAdministrator"
  | "androidWorkProfile"
  | "androidDedicatedAndFullyManaged"
  | "unknownFutureValue";

/** `detectedApp`: an app Intune found installed on managed devices. */
export interface DetectedAppWire {
  id: string;
  displayName: string | null;
  version: string | null;
  publisher: string | null;
  sizeInByte: number;
  deviceCount: number;
  platform: DetectedAppPlatformType;
}

/** `deviceManagementReportStatus` */
export type ExportJobStatus = "unknown" | "notStarted" | "inProgress" | "completed" | "failed";

/** `deviceManagementExportJob` (reports export API). */
export interface ExportJobWire {
  id: string;
  reportName: string;
  status: ExportJobStatus;
  /** the download URL (a SAS, secret), once completed */
  url?: string | null;
  format?: "csv" | "json";
  select?: string[] | null;
  expirationDateTime?: string;
  requestDateTime?: string;
}

/** The body that creates an export job. */
export interface ExportJobCreateWire {
  reportName: string;
  format: "csv";
  select: string[];
  localizationType: "localizedValuesAsAdditionalColumn" | "replaceLocalizableValues";
}

/** `managedDevice`: the fields we read. */
export interface ManagedDeviceWire {
  id: string;
  deviceName: string | null;
  operatingSystem: string | null;
  osVersion: string | null;
}

// ---- Graph envelopes (docs/reference/entra-errors.md §2.3, docs/reference/graph-conventions.md §6.2) ----

export interface GraphErrorBodyWire {
  error: {
    code: string;
    message: string;
    innerError?: {
      date: string;
      "request-id": string;
      "client-request-id": string;
      [extra: string]: unknown;
    };
  };
}

export interface GraphCollectionWire<T> {
  "@odata.context"?: string;
  "@odata.count"?: number;
  "@odata.nextLink"?: string;
  value: T[];
}
