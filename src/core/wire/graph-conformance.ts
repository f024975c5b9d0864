/**
 * Our wire shapes checked against Microsoft's Graph type definitions (wire shapes come from Microsoft's Graph type
 * definitions where a package provides them): `@microsoft/microsoft-graph-types-beta`, generated from the beta
 * metadata the Intune endpoints live in. Types only: this module compiles to nothing, and `tsc` fails when one of
 * our shapes names a property Microsoft's type does not have, or gives one a value Microsoft's type does not allow
 * (an enum member, a type). Our types stay ours because they are stricter: Microsoft's make every property optional
 * and nullable and type enums loosely where the service is strict (e.g. architectures as one flags string).
 * `@odata.*` annotations are not in Microsoft's types and are not compared.
 */
import type * as MS from "@microsoft/microsoft-graph-types-beta";
import type {
  AssignmentFilterWire,
  AssignmentTargetWire,
  DetectedAppWire,
  ExportJobCreateWire,
  ExportJobWire,
  EspProfileWire,
  FileEncryptionInfoWire,
  FileSystemDetectionWire,
  FileSystemRequirementWire,
  GroupWire,
  InstallExperienceWire,
  ManagedDeviceWire,
  MimeContentWire,
  MobileAppAssignmentWire,
  MobileAppCategoryWire,
  MobileAppContentFileCreateWire,
  MobileAppContentFileWire,
  MobileAppContentWire,
  MobileAppRelationshipWire,
  MobileAppRelationshipWriteWire,
  MsiInformationWire,
  PowerShellScriptDetectionWire,
  PowerShellScriptRequirementWire,
  ProductCodeDetectionWire,
  PublishingState,
  RegistryDetectionWire,
  RegistryRequirementWire,
  ReturnCodeWire,
  RoleScopeTagWire,
  UploadState,
  Win32LobAppWire,
} from "./graph.js";
import type { CategoryRef } from "../plan/plan.js";

type Defined<T> = Exclude<T, undefined>;
/** our read-only arrays are fine where Microsoft's type has a mutable one */
type OrReadonly<T> = T | (T extends (infer E)[] ? readonly E[] : never);

/**
 * For each property of `Ours` (but `@odata.*`): `true` when Microsoft's `Theirs` has it and our value type is
 * assignable to theirs (null allowed where theirs is nullable); otherwise a description of the mismatch.
 */
type Mismatches<Ours, Theirs, Except extends PropertyKey> = {
  [K in Exclude<keyof Ours, `@odata.${string}` | Except>]-?: K extends keyof Theirs
    ? [Defined<Ours[K]>] extends [OrReadonly<Defined<Theirs[K]>>]
      ? true
      : { property: K; ours: Defined<Ours[K]>; microsofts: Defined<Theirs[K]> }
    : { property: K; notInMicrosoftsType: true };
};
/** `true`, or the mismatches (shown in the compiler's error); `Except`: properties not compared, each said why. */
type Conforms<Ours, Theirs, Except extends PropertyKey = never> = Mismatches<Ours, Theirs, Except>[keyof Mismatches<
  Ours,
  Theirs,
  Except
>] extends true
  ? true
  : Exclude<Mismatches<Ours, Theirs, Except>[keyof Mismatches<Ours, Theirs, Except>], true>;
type Assert<T extends true> = T;

export type GraphConformance = [
  // windowsArchitecture is a flags enum: Graph reads and writes a comma list ("x64,arm64"), which the generated
  // type (one member) cannot express; our values are checked by the definition schema and the emulator instead.
  Assert<Conforms<Win32LobAppWire, MS.Win32LobApp, "applicableArchitectures" | "allowedArchitectures">>,
  Assert<Conforms<InstallExperienceWire, MS.Win32LobAppInstallExperience>>,
  Assert<Conforms<ReturnCodeWire, MS.Win32LobAppReturnCode>>,
  Assert<Conforms<MsiInformationWire, MS.Win32LobAppMsiInformation>>,
  Assert<Conforms<MimeContentWire, MS.MimeContent>>,
  Assert<Conforms<FileSystemDetectionWire, MS.Win32LobAppFileSystemDetection>>,
  Assert<Conforms<RegistryDetectionWire, MS.Win32LobAppRegistryDetection>>,
  Assert<Conforms<ProductCodeDetectionWire, MS.Win32LobAppProductCodeDetection>>,
  Assert<Conforms<PowerShellScriptDetectionWire, MS.Win32LobAppPowerShellScriptDetection>>,
  Assert<Conforms<FileSystemRequirementWire, MS.Win32LobAppFileSystemRequirement>>,
  Assert<Conforms<RegistryRequirementWire, MS.Win32LobAppRegistryRequirement>>,
  Assert<Conforms<PowerShellScriptRequirementWire, MS.Win32LobAppPowerShellScriptRequirement>>,
  Assert<Conforms<MobileAppContentWire, MS.MobileAppContent>>,
  Assert<Conforms<MobileAppContentFileCreateWire, MS.MobileAppContentFile>>,
  Assert<Conforms<MobileAppContentFileWire, MS.MobileAppContentFile>>,
  Assert<Conforms<FileEncryptionInfoWire, MS.FileEncryptionInfo>>,
  Assert<Conforms<MobileAppAssignmentWire, MS.MobileAppAssignment>>,
  Assert<Conforms<AssignmentTargetWire, MS.GroupAssignmentTarget & MS.DeviceAndAppManagementAssignmentTarget>>,
  Assert<Conforms<MobileAppRelationshipWriteWire, MS.MobileAppSupersedence & MS.MobileAppDependency>>,
  Assert<Conforms<MobileAppRelationshipWire, MS.MobileAppSupersedence & MS.MobileAppDependency>>,
  Assert<Conforms<EspProfileWire, MS.Windows10EnrollmentCompletionPageConfiguration>>,
  Assert<Conforms<GroupWire, MS.Group>>,
  Assert<Conforms<AssignmentFilterWire, MS.DeviceAndAppManagementAssignmentFilter>>,
  Assert<Conforms<RoleScopeTagWire, MS.RoleScopeTag>>,
  Assert<Conforms<MobileAppCategoryWire, MS.MobileAppCategory>>,
  Assert<Conforms<DetectedAppWire, MS.DetectedApp>>,
  Assert<Conforms<ExportJobWire, MS.DeviceManagementExportJob>>,
  Assert<Conforms<ExportJobCreateWire, MS.DeviceManagementExportJob>>,
  Assert<Conforms<ManagedDeviceWire, MS.ManagedDevice>>,
  Assert<Conforms<CategoryRef, MS.MobileAppCategory>>,
  Assert<[UploadState] extends [MS.MobileAppContentFileUploadState] ? true : false>,
  Assert<[PublishingState] extends [MS.MobileAppPublishingState] ? true : false>,
];
