/**
 * The error catalogue: every code a PublisherError may carry, with its kind (and so, through src/cli/exit-codes.ts,
 * its exit code), one line saying what it means, and its heading in docs/troubleshooting.md (the `#slug` GitHub
 * gives the heading) or why it needs none. A code not listed here does not compile. The table in
 * docs/cli.md#error-codes is generated from this file (`npm run docs:errors`); a test fails when it is stale.
 *
 * To add a code: one entry in the group of its area, in alphabetical order. The service's own code (Graph
 * `error.code`, `AADSTS…`, storage `x-ms-error-code`) is never an entry: it goes in `serviceCode`.
 */
import type { ErrorKind } from "./errors.js";

export interface ErrorCodeEntry {
  readonly kind: ErrorKind;
  /** one line: what happened */
  readonly meaning: string;
  /** `#slug` of a heading in docs/troubleshooting.md, or why the message and hint are enough */
  readonly troubleshooting: `#${string}` | { readonly none: string };
}

type Group = Record<string, ErrorCodeEntry>;

/** Reasons for having no troubleshooting heading. */
const NAMED = { none: "the message names the file, value or flag, and the hint the fix" } as const;
const BUG = { none: "a bug in intune-publisher: report it with the command you ran and the run log" } as const;
const RETRY = { none: "a passing failure of the service: the hint says when to run again" } as const;
const STOPPED = { none: "the run stopped as asked; running the command again goes on" } as const;

const GENERAL = {
  Cancelled: {
    kind: "cancelled",
    meaning: "Ctrl-C, SIGTERM or a cancelled prompt stopped the run",
    troubleshooting: STOPPED,
  },
  Internal: { kind: "internal", meaning: "a broken invariant: a bug in intune-publisher", troubleshooting: BUG },
  NotConfirmed: {
    kind: "cancelled",
    meaning: "the confirmation was answered other than yes; nothing was changed",
    troubleshooting: "#removeconfirmationneeded",
  },
  Timeout: { kind: "timeout", meaning: "a deadline passed before the operation ended", troubleshooting: RETRY },
  UnsafeGeneratedPath: {
    kind: "internal",
    meaning: "a generated file path would leave its folder: a bug in intune-publisher",
    troubleshooting: BUG,
  },
  Usage: { kind: "usage", meaning: "a flag or argument is missing, unknown or malformed", troubleshooting: NAMED },
} satisfies Group;

const FILES = {
  AccessDenied: { kind: "input", meaning: "a folder the run writes to is not writable", troubleshooting: NAMED },
  AllowPathNotFolder: {
    kind: "input",
    meaning: "a folder given with --allow-path is not a folder",
    troubleshooting: "#allowpathnotfolder",
  },
  AppDefinitionNotFound: { kind: "input", meaning: "the app definition file does not exist", troubleshooting: NAMED },
  DiskFull: {
    kind: "input",
    meaning: "the disk (or quota) of the output or cache folder is full; nothing was kept",
    troubleshooting: "#diskfull",
  },
  FileNotFound: {
    kind: "input",
    meaning: "a file named on the command line or in a definition does not exist",
    troubleshooting: NAMED,
  },
  FileNotReadable: {
    kind: "input",
    meaning: "a file named cannot be read (permissions, I/O error)",
    troubleshooting: NAMED,
  },
  FileTooLarge: {
    kind: "input",
    meaning: "a file named is over its size limit (docs/limits.md)",
    troubleshooting: "#filetoolarge",
  },
  InvalidAppDefinition: {
    kind: "input",
    meaning: "the app definition breaks its schema; every problem is listed with its position",
    troubleshooting: "#app-definition-files",
  },
  LocalIo: { kind: "input", meaning: "a local read or write failed during an upload", troubleshooting: NAMED },
  NotRegularFile: {
    kind: "input",
    meaning: "a path names a folder, FIFO, socket or device where a regular file is needed",
    troubleshooting: "#filenotregular",
  },
  OutputFileTooLarge: {
    kind: "input",
    meaning: "the output file outgrew the file system's or the process's file size limit (EFBIG); nothing was kept",
    troubleshooting: "#outputfiletoolarge",
  },
  OutputFolderNotEmpty: {
    kind: "input",
    meaning: "the folder catalog import writes into is not empty; nothing was written",
    troubleshooting: "#outputfoldernotempty-outputfolderunsafe-duplicatedefinition",
  },
  OutputFolderUnsafe: {
    kind: "input",
    meaning: "the folder catalog import writes into is a link or not a folder",
    troubleshooting: "#outputfoldernotempty-outputfolderunsafe-duplicatedefinition",
  },
  OutsideAllowedRoots: {
    kind: "input",
    meaning: "a path resolves (after symbolic links) outside the folders the run may read",
    troubleshooting: "#pathoutsideallowedfolders",
  },
  UnknownFileType: {
    kind: "input",
    meaning: "inspect was given a file that is neither .intunewin nor .msi",
    troubleshooting: NAMED,
  },
} satisfies Group;

const CONFIG = {
  CaUnreadable: {
    kind: "config",
    meaning: "the CA certificate the profile names cannot be read",
    troubleshooting: NAMED,
  },
  ConfigFileMissing: {
    kind: "incompleteConfig",
    meaning: "the file given with --config does not exist",
    troubleshooting: "#configfilemissing",
  },
  ConfigUnreadable: { kind: "config", meaning: "the profiles file cannot be read", troubleshooting: NAMED },
  Exists: {
    kind: "input",
    meaning:
      "a file that already exists would be overwritten (connect setup's key or certificate, a diagnostics bundle)",
    troubleshooting: NAMED,
  },
  IncompleteConfiguration: {
    kind: "incompleteConfig",
    meaning: "something names a tenant, but not enough of it (a setting missing or set but empty)",
    troubleshooting: "#configincomplete",
  },
  InsecureTokenUrl: {
    kind: "config",
    meaning: "a token would be sent over plain HTTP (a Graph URL that is not https)",
    troubleshooting: NAMED,
  },
  InvalidConfiguration: {
    kind: "config",
    meaning: "a setting (cloud, authority, tenant, endpoint) is not valid",
    troubleshooting: NAMED,
  },
  InvalidCredential: {
    kind: "config",
    meaning: "the credential (secret, certificate, key or federated token file) is unusable",
    troubleshooting: NAMED,
  },
  InvalidProfile: {
    kind: "config",
    meaning: "connect init was given settings that do not make a valid profile",
    troubleshooting: NAMED,
  },
  InvalidProxy: { kind: "config", meaning: "the proxy setting is not an http(s) URL", troubleshooting: NAMED },
  NoConfiguration: {
    kind: "config",
    meaning: "no tenant is configured (and the local tenant is not in use)",
    troubleshooting: "#configuration-and-the-local-tenant",
  },
  NoCredential: {
    kind: "incompleteConfig",
    meaning: "a tenant and client are set, but no credential",
    troubleshooting: "#configincomplete",
  },
  ProxyPasswordInConfig: {
    kind: "config",
    meaning: "a proxy URL in the profiles file holds a password",
    troubleshooting: "#configproxypassword",
  },
  UnknownProfile: {
    kind: "config",
    meaning: "the profile named does not exist in the profiles file",
    troubleshooting: NAMED,
  },
} satisfies Group;

const SIGN_IN = {
  SignInConsentMissing: {
    kind: "permission",
    meaning: "Entra ID refused a token: admin consent is missing (serviceCode: the AADSTS code)",
    troubleshooting: "#sign-in-errors-aadsts-codes",
  },
  SignInFailed: {
    kind: "auth",
    meaning: "msal failed the sign-in with an error of its own (serviceCode: msal's code)",
    troubleshooting: "#sign-in-errors-aadsts-codes",
  },
  SignInRefused: {
    kind: "auth",
    meaning: "Entra ID refused to issue a token (serviceCode: the AADSTS code)",
    troubleshooting: "#sign-in-errors-aadsts-codes",
  },
  SignInRequestInvalid: {
    kind: "internal",
    meaning: "Entra ID found the token request malformed: a bug (serviceCode: the AADSTS code)",
    troubleshooting: "#sign-in-errors-aadsts-codes",
  },
  SignInSettingsRejected: {
    kind: "config",
    meaning: "Entra ID refused the profile's tenant, cloud or resource settings (serviceCode: the AADSTS code)",
    troubleshooting: "#sign-in-errors-aadsts-codes",
  },
} satisfies Group;

const NETWORK = {
  NetworkError: {
    kind: "network",
    meaning: "a connection failed, was refused or dropped",
    troubleshooting: "#network-and-tls",
  },
  NetworkFailure: { kind: "network", meaning: "Entra ID could not be reached", troubleshooting: "#netconnect" },
  ResponseTooLarge: {
    kind: "input",
    meaning: "an answer was over the size limit of what was asked for; nothing was kept",
    troubleshooting: "#responsetoolarge-toomanyredirects-cataloghttperror",
  },
  TlsUntrusted: {
    kind: "network",
    meaning: "the server's TLS certificate is not trusted (verification is never turned off)",
    troubleshooting: "#tlsuntrusted",
  },
} satisfies Group;

const GRAPH = {
  BatchAnswerMissing: {
    kind: "graph",
    meaning: "a Graph $batch answer lacks the response to one of its requests",
    troubleshooting: RETRY,
  },
  ForeignHost: {
    kind: "internal",
    meaning: "a Graph request was about to go to a host other than the Graph base URL",
    troubleshooting: BUG,
  },
  ForeignNextLink: {
    kind: "graph",
    meaning: "Graph paging returned a next link to another host",
    troubleshooting: NAMED,
  },
  GraphForbidden: {
    kind: "permission",
    meaning: "Graph answered 403: the app lacks a permission (serviceCode: Graph's error code)",
    troubleshooting: "#microsoft-graph-errors",
  },
  GraphRequestFailed: {
    kind: "graph",
    meaning: "Graph answered with an error (serviceCode: Graph's error code, or HttpNNN)",
    troubleshooting: "#microsoft-graph-errors",
  },
  GraphSettingsRejected: {
    kind: "config",
    meaning: "Graph's answer shows a wrong setting: the token's audience (cloud) or the Graph URL",
    troubleshooting: "#microsoft-graph-errors",
  },
  GraphUnauthorized: {
    kind: "auth",
    meaning: "Graph answered 401: it refused the token (serviceCode: Graph's error code)",
    troubleshooting: "#microsoft-graph-errors",
  },
  InvalidBatch: { kind: "internal", meaning: "a Graph $batch request was built wrong", troubleshooting: BUG },
  InvalidJson: {
    kind: "graph",
    meaning: "Graph answered with a body that is not the JSON expected",
    troubleshooting: RETRY,
  },
  NextLinkLoop: { kind: "graph", meaning: "Graph paging returned a link it had already given", troubleshooting: RETRY },
  NotACollection: { kind: "graph", meaning: "a Graph list call did not return a collection", troubleshooting: RETRY },
  PermissionMissing: {
    kind: "permission",
    meaning: "the app registration lacks a Graph permission the step needs",
    troubleshooting: "#permissiontargeting",
  },
  StorageRequestFailed: {
    kind: "graph",
    meaning: "Azure Storage answered with an error (serviceCode: x-ms-error-code, or StorageNNN)",
    troubleshooting: "#storage403aftercommit",
  },
} satisfies Group;

const UPLOAD = {
  AzureStorageUriRenewalFailed: {
    kind: "graph",
    meaning: "Intune could not renew the upload URL",
    troubleshooting: RETRY,
  },
  AzureStorageUriRenewalTimedOut: {
    kind: "graph",
    meaning: "Intune timed out renewing the upload URL",
    troubleshooting: RETRY,
  },
  AzureStorageUriRequestFailed: {
    kind: "graph",
    meaning: "Intune could not issue an upload URL",
    troubleshooting: RETRY,
  },
  AzureStorageUriRequestTimedOut: {
    kind: "graph",
    meaning: "Intune timed out issuing an upload URL",
    troubleshooting: RETRY,
  },
  CommitFileFailed: {
    kind: "graph",
    meaning: "Intune refused the uploaded file: it does not match the package's encryption info",
    troubleshooting: NAMED,
  },
  CommitFileTimedOut: {
    kind: "graph",
    meaning: "Intune timed out committing the uploaded file",
    troubleshooting: RETRY,
  },
  CommitNotApplied: {
    kind: "graph",
    meaning: "after setting committedContentVersion, the app still names another version",
    troubleshooting: RETRY,
  },
  InvalidBlockList: {
    kind: "graph",
    meaning: "Azure Storage answered Get Block List with invalid XML",
    troubleshooting: RETRY,
  },
  InvalidBlockSize: {
    kind: "usage",
    meaning: "the upload block size is outside 1 byte to 100 MiB",
    troubleshooting: NAMED,
  },
  InvalidConcurrency: {
    kind: "usage",
    meaning: "the upload concurrency is not a whole number of at least 1",
    troubleshooting: NAMED,
  },
  NoPackage: { kind: "usage", meaning: "an upload was asked for without a package", troubleshooting: BUG },
  NoUploadUrl: { kind: "graph", meaning: "Intune reported the upload URL ready but sent none", troubleshooting: RETRY },
  PayloadSizeMismatch: {
    kind: "input",
    meaning: "the package's encrypted content is not the size its Detection.xml declares",
    troubleshooting: NAMED,
  },
  TooManyBlocks: {
    kind: "usage",
    meaning: "the content needs more blocks than Azure Storage allows at this block size",
    troubleshooting: NAMED,
  },
  UnexpectedUploadState: {
    kind: "graph",
    meaning: "the content file went to an upload state the step never leads to",
    troubleshooting: RETRY,
  },
  UnsupportedEncryptionProfile: {
    kind: "input",
    meaning: "the package's encryption profile is not the one Intune accepts",
    troubleshooting: NAMED,
  },
  UploadStateDeadline: {
    kind: "timeout",
    meaning: "the content file did not reach the awaited upload state in time; run again to resume",
    troubleshooting: RETRY,
  },
} satisfies Group;

const LIFECYCLE = {
  AmbiguousApp: {
    kind: "usage",
    meaning: "a name or definition id matches several apps",
    troubleshooting: "#removeambiguous",
  },
  AmbiguousVersion: {
    kind: "usage",
    meaning: "several apps of the definition carry the version asked for",
    troubleshooting: NAMED,
  },
  AppNotFound: { kind: "input", meaning: "no app has the id, name or definition id given", troubleshooting: NAMED },
  ConfirmationNeeded: {
    kind: "usage",
    meaning: "apps remove needs a confirmation, but there is no terminal and no --yes",
    troubleshooting: "#removeconfirmationneeded",
  },
  ForeignLinks: {
    kind: "usage",
    meaning: "apps not published by intune-publisher supersede or depend on the app to remove",
    troubleshooting: "#removeforeignlinks",
  },
  LinkedAppNotPublished: {
    kind: "graph",
    meaning: "a dependency or supersedence target failed in this run, so the link is not written",
    troubleshooting: "#dependencynotpublished",
  },
  NoContent: {
    kind: "input",
    meaning: "the version to roll back to has no committed content",
    troubleshooting: "#rollbacknothing",
  },
  NotOurApp: {
    kind: "usage",
    meaning: "the app has no intune-publisher ownership stamp (pass --force to act anyway)",
    troubleshooting: NAMED,
  },
  NothingToRollBack: {
    kind: "input",
    meaning: "the definition has no earlier version to roll back to",
    troubleshooting: "#rollbacknothing",
  },
  PlanRefused: {
    kind: "input",
    meaning: "the plan refuses an app (targeting that names unknown groups, filters, tags…)",
    troubleshooting: "#targeting-and-lifecycle",
  },
  StampChanged: {
    kind: "graph",
    meaning: "an app's ownership stamp changed while the rollback ran",
    troubleshooting: NAMED,
  },
  VersionNotFound: {
    kind: "input",
    meaning: "the definition has no version with the value given",
    troubleshooting: NAMED,
  },
} satisfies Group;

const PACKAGES = {
  BadLocalHeader: {
    kind: "input",
    meaning: "a zip entry's local header is missing or misplaced",
    troubleshooting: "#packages",
  },
  BrokenSymlink: { kind: "input", meaning: "the source folder holds a broken symbolic link", troubleshooting: NAMED },
  CrcMismatch: {
    kind: "integrity",
    meaning: "an extracted file's CRC-32 is not the one its zip record holds",
    troubleshooting: "#packages",
  },
  DecryptFailed: {
    kind: "integrity",
    meaning: "the package does not decrypt with its key (bad padding)",
    troubleshooting: "#packages",
  },
  DetectionXmlInvalid: {
    kind: "input",
    meaning: "the package's Detection.xml is missing, malformed or incomplete",
    troubleshooting: "#packages",
  },
  DetectionXmlTooLarge: {
    kind: "input",
    meaning: "the package's Detection.xml is over its size limit",
    troubleshooting: "#detectionxmltoolarge",
  },
  DigestMismatch: {
    kind: "integrity",
    meaning: "the decrypted content's SHA-256 is not the digest Detection.xml records",
    troubleshooting: "#packages",
  },
  DuplicateEntry: {
    kind: "input",
    meaning: "the package holds two entries with the same name",
    troubleshooting: "#packages",
  },
  EncryptedEntry: {
    kind: "input",
    meaning: "a zip entry is encrypted with zip encryption, which no packager uses",
    troubleshooting: "#packages",
  },
  EntryClash: {
    kind: "input",
    meaning: "an entry clashes with another one on this file system; nothing was extracted",
    troubleshooting: "#packages",
  },
  EntryDataCorrupt: {
    kind: "integrity",
    meaning: "the compressed data of a zip entry is damaged",
    troubleshooting: "#entrysizemismatch",
  },
  EntrySizeMismatch: {
    kind: "integrity",
    meaning: "a zip entry inflates to a size other than its record declares",
    troubleshooting: "#entrysizemismatch",
  },
  ExtractedTooLarge: {
    kind: "input",
    meaning: "the package would extract to more than the limit (zip bomb guard)",
    troubleshooting: "#extractedtoolarge",
  },
  InnerZipCorrupt: {
    kind: "input",
    meaning: "the decrypted content of the package is not a valid zip",
    troubleshooting: "#packages",
  },
  IvMismatch: {
    kind: "integrity",
    meaning: "the payload's IV is not the one Detection.xml records",
    troubleshooting: "#packages",
  },
  MacMismatch: {
    kind: "integrity",
    meaning: "the payload's HMAC is wrong: the package was altered or damaged",
    troubleshooting: "#packages",
  },
  MsiCorrupt: { kind: "input", meaning: "an MSI file is not a readable MSI database", troubleshooting: "#msicorrupt" },
  MsiUnreadable: { kind: "input", meaning: "an MSI file cannot be read", troubleshooting: "#msicorrupt" },
  NameNotUtf8: {
    kind: "input",
    meaning: "a file name in the source folder is not valid UTF-8",
    troubleshooting: NAMED,
  },
  NameTooLong: {
    kind: "input",
    meaning: "an entry's path is too long for this file system",
    troubleshooting: "#nametoolong",
  },
  NamesDifferInCase: {
    kind: "input",
    meaning: "two names in the source folder differ only in case (one name on Windows)",
    troubleshooting: NAMED,
  },
  OutputInsideSource: {
    kind: "input",
    meaning: "the output folder is inside the source folder",
    troubleshooting: NAMED,
  },
  OutputNotEmpty: { kind: "input", meaning: "the folder to extract into is not empty", troubleshooting: NAMED },
  OverlappingEntries: {
    kind: "input",
    meaning: "zip entries share bytes (the trick behind zip bombs)",
    troubleshooting: "#overlappingentries",
  },
  PackageCorrupt: {
    kind: "input",
    meaning: "the file is not a complete, valid .intunewin package",
    troubleshooting: "#packages",
  },
  PackageEmpty: { kind: "input", meaning: "the package file is empty", troubleshooting: "#packages" },
  PayloadTruncated: {
    kind: "integrity",
    meaning: "the encrypted payload has an impossible length",
    troubleshooting: "#packages",
  },
  SetupNotAFile: { kind: "input", meaning: "the setup file is not a file", troubleshooting: NAMED },
  SetupNotFound: { kind: "input", meaning: "the setup file is not in the source folder", troubleshooting: NAMED },
  SetupOutsideSource: { kind: "input", meaning: "the setup file is outside the source folder", troubleshooting: NAMED },
  SizeMismatch: {
    kind: "integrity",
    meaning: "the package decrypts to a size other than Detection.xml records",
    troubleshooting: "#packages",
  },
  SourceChanged: { kind: "input", meaning: "a source file changed size while it was packaged", troubleshooting: NAMED },
  SourceEmpty: { kind: "input", meaning: "the source folder is empty", troubleshooting: NAMED },
  SourceNotAFolder: { kind: "input", meaning: "the source is a file, not a folder", troubleshooting: NAMED },
  SourceNotFound: { kind: "input", meaning: "the source folder does not exist", troubleshooting: NAMED },
  SpillTruncated: {
    kind: "input",
    meaning: "a temporary file of the packager was truncated while in use",
    troubleshooting: NAMED,
  },
  SymlinkEntry: { kind: "input", meaning: "the package holds a symbolic link entry", troubleshooting: "#packages" },
  SymlinkEscapesSource: {
    kind: "input",
    meaning: "a symbolic link in the source folder points outside it",
    troubleshooting: NAMED,
  },
  SymlinkLoop: { kind: "input", meaning: "the source folder has a symbolic-link loop", troubleshooting: NAMED },
  TooManyEntries: {
    kind: "input",
    meaning: "a package or catalog folder holds more entries than the limit",
    troubleshooting: "#toomanyentries",
  },
  UnsafeEntry: {
    kind: "input",
    meaning: "a package entry would be written outside the output folder (zip slip)",
    troubleshooting: "#packages",
  },
  UnsafeFileName: {
    kind: "input",
    meaning: "a file name in the source folder cannot exist on Windows",
    troubleshooting: "#unsafefilename",
  },
  UnsafeName: {
    kind: "input",
    meaning: "a package entry has a name that cannot be extracted safely",
    troubleshooting: "#unsafefilename",
  },
  UnsupportedCompression: {
    kind: "input",
    meaning: "a zip entry uses a compression method other than stored or deflate",
    troubleshooting: "#packages",
  },
  UnsupportedFileType: {
    kind: "input",
    meaning: "the source folder holds something other than files and folders (FIFO, socket, device)",
    troubleshooting: "#notregularfile",
  },
} satisfies Group;

const CATALOG = {
  CatalogFeedInvalid: {
    kind: "input",
    meaning: "a catalog entry's feed (JSON, XML or GitHub release) does not give what the entry asks for",
    troubleshooting: "#catalogfeedinvalid",
  },
  CatalogHttpError: {
    kind: "network",
    meaning: "a catalog source, index or feed answered with an HTTP error",
    troubleshooting: "#responsetoolarge-toomanyredirects-cataloghttperror",
  },
  CatalogIndexNotFound: {
    kind: "input",
    meaning: "an HTTPS catalog source has no package index",
    troubleshooting: "#catalogindexnotfound-invalidcatalogindex",
  },
  CatalogSourceNotFound: {
    kind: "input",
    meaning: "the catalog source folder is not a folder",
    troubleshooting: "#notwingetlayout-unknowncatalogsource-catalogsourcenotfound",
  },
  DefinitionPending: {
    kind: "input",
    meaning: "a catalog product's definition needs the downloaded installer first (catalog show without it)",
    troubleshooting: "#definitionpending",
  },
  DuplicateDefinition: {
    kind: "input",
    meaning: "two products given to catalog import become the same definition id",
    troubleshooting: "#outputfoldernotempty-outputfolderunsafe-duplicatedefinition",
  },
  EmptySearch: { kind: "input", meaning: "the search text is empty", troubleshooting: NAMED },
  FixedUrlNotMsi: {
    kind: "input",
    meaning: "the file at a catalog entry's fixed URL is not an MSI, so it gives no version",
    troubleshooting: "#fixedurlnotmsi",
  },
  GeneratedDefinitionInvalid: {
    kind: "input",
    meaning: "the app definition made from a manifest does not fit an Intune app",
    troubleshooting: "#unsafescriptvalue-generateddefinitioninvalid-versiontoolong",
  },
  InsecureUrl: {
    kind: "input",
    meaning: "a catalog or download URL is not https (a download needs a pinned hash to use http)",
    troubleshooting: "#insecureurl-urlwithcredentials-invalidurl",
  },
  InvalidCatalogConfig: {
    kind: "input",
    meaning: "a configured catalog source has neither url nor path",
    troubleshooting: NAMED,
  },
  InvalidCatalogIndex: {
    kind: "input",
    meaning: "a catalog package index is not a JSON array of packages, or too large",
    troubleshooting: "#catalogindexnotfound-invalidcatalogindex",
  },
  InvalidManifest: {
    kind: "input",
    meaning: "a winget manifest or catalog entry breaks its schema; every problem is listed",
    troubleshooting: "#invalidmanifest",
  },
  InvalidPackageId: {
    kind: "input",
    meaning: "the text given is not a package id (Publisher.Package)",
    troubleshooting: "#invalidpackageid-invalidpackageversion",
  },
  InvalidPackageVersion: {
    kind: "input",
    meaning: "the text given is not a package version",
    troubleshooting: "#invalidpackageid-invalidpackageversion",
  },
  InvalidUrl: {
    kind: "input",
    meaning: "a catalog URL is not a valid URL (or a base URL has a query)",
    troubleshooting: "#insecureurl-urlwithcredentials-invalidurl",
  },
  ManifestFileMissing: {
    kind: "input",
    meaning: "a file of a multi-file manifest is missing from the source",
    troubleshooting: "#packagenotfound-packageversionnotfound-manifestmismatch",
  },
  ManifestMismatch: {
    kind: "input",
    meaning: "the manifest found is not the package and version its place says",
    troubleshooting: "#packagenotfound-packageversionnotfound-manifestmismatch",
  },
  NestedInstallerMissing: {
    kind: "input",
    meaning: "a zip's NestedInstallerFiles names a file the downloaded zip does not hold",
    troubleshooting: "#nestedinstallermissing",
  },
  NoSilentSwitches: {
    kind: "input",
    meaning: "an exe installer has no silent switches, so it cannot install unattended",
    troubleshooting: "#nosilentswitches-unsafeswitches",
  },
  NoUsableInstaller: {
    kind: "input",
    meaning: "no installer of the manifest fits the architecture and scope, or Intune's Win32 apps",
    troubleshooting: "#nousableinstaller",
  },
  NotWingetLayout: {
    kind: "input",
    meaning: "the folder is not in the winget-pkgs layout",
    troubleshooting: "#notwingetlayout-unknowncatalogsource-catalogsourcenotfound",
  },
  PackageNotFound: {
    kind: "input",
    meaning: "the package id is not in the catalog source",
    troubleshooting: "#packagenotfound-packageversionnotfound-manifestmismatch",
  },
  PackageVersionNotFound: {
    kind: "input",
    meaning: "the package has no such version in the catalog source",
    troubleshooting: "#packagenotfound-packageversionnotfound-manifestmismatch",
  },
  ProductCodeMismatch: {
    kind: "input",
    meaning: "the downloaded MSI's ProductCode is not the one the manifest declares",
    troubleshooting: "#productcodemismatch",
  },
  SearchTooLong: { kind: "input", meaning: "the search text is over its length limit", troubleshooting: NAMED },
  TooManyManifestFiles: {
    kind: "input",
    meaning: "a manifest version folder holds more files than the limit",
    troubleshooting: NAMED,
  },
  TooManyRedirects: {
    kind: "network",
    meaning: "a catalog document or a download redirects more times than the limit",
    troubleshooting: "#responsetoolarge-toomanyredirects-cataloghttperror",
  },
  UnknownCatalogSource: {
    kind: "input",
    meaning: "the catalog source named is not configured, nor a URL or folder",
    troubleshooting: "#notwingetlayout-unknowncatalogsource-catalogsourcenotfound",
  },
  UnreadableManifest: {
    kind: "input",
    meaning: "a manifest file of the source cannot be read",
    troubleshooting: NAMED,
  },
  UnsafeScriptValue: {
    kind: "input",
    meaning: "a manifest value cannot be put safely into a generated PowerShell script",
    troubleshooting: "#unsafescriptvalue-generateddefinitioninvalid-versiontoolong",
  },
  UnsafeSwitches: {
    kind: "input",
    meaning: "an installer's switches hold characters that are unsafe on a command line",
    troubleshooting: "#nosilentswitches-unsafeswitches",
  },
  UrlWithCredentials: {
    kind: "input",
    meaning: "a URL carries a user name or password",
    troubleshooting: "#insecureurl-urlwithcredentials-invalidurl",
  },
  VersionTooLong: {
    kind: "input",
    meaning: "the manifest's version is longer than an app definition allows",
    troubleshooting: "#unsafescriptvalue-generateddefinitioninvalid-versiontoolong",
  },
} satisfies Group;

const DOWNLOADS = {
  DownloadHttpError: {
    kind: "network",
    meaning: "the download server answered with an HTTP error",
    troubleshooting: "#downloadhttperror",
  },
  DownloadIncomplete: {
    kind: "network",
    meaning: "a download kept breaking; the part received is kept for the next run",
    troubleshooting: "#downloadincomplete",
  },
  DownloadTooLarge: {
    kind: "input",
    meaning: "the file to download is over the size limit; nothing was kept",
    troubleshooting: "#downloadtoolarge",
  },
  HashMismatch: {
    kind: "integrity",
    meaning: "a downloaded file's SHA-256 is not the published one; it was deleted",
    troubleshooting: "#hashmismatch",
  },
  InsecureRedirect: {
    kind: "network",
    meaning: "a download redirects to plain http:// (without a pinned hash) or another scheme",
    troubleshooting: "#insecureredirect",
  },
  InvalidDownloadUrl: { kind: "input", meaning: "the download URL is not a URL", troubleshooting: "#insecureurl" },
  InvalidSha256: {
    kind: "input",
    meaning: "the SHA-256 given for a download is not 64 hexadecimal digits",
    troubleshooting: NAMED,
  },
  LockFileInvalid: { kind: "input", meaning: "the download lock file is damaged", troubleshooting: "#lockfileinvalid" },
  LockFileNotWritable: { kind: "input", meaning: "the download lock file cannot be written", troubleshooting: NAMED },
  LockMismatch: {
    kind: "integrity",
    meaning: "a downloaded file is not the one the lock file recorded for that version",
    troubleshooting: "#lockmismatch",
  },
  MsiWithoutVersion: { kind: "input", meaning: "a downloaded MSI has no ProductVersion", troubleshooting: NAMED },
  RedirectLoop: { kind: "network", meaning: "a download redirects in a loop", troubleshooting: "#redirectloop" },
  RedirectRefused: {
    kind: "network",
    meaning: "a download redirects to something that is not a URL, or to a URL with credentials",
    troubleshooting: NAMED,
  },
} satisfies Group;

const LOCAL_TENANT = {
  BlobFolderUnusable: {
    kind: "input",
    meaning: "the local tenant cannot keep blob storage in its state folder",
    troubleshooting: "#emulatorblobfolder",
  },
  EmulatorStateInUse: {
    kind: "input",
    meaning: "another local tenant uses the state folder",
    troubleshooting: "#emulatorstateinuse",
  },
  InvalidMirrorManifest: {
    kind: "input",
    meaning: "a manifest of the vendor host's mirror is not valid",
    troubleshooting: NAMED,
  },
  InvalidSeed: { kind: "input", meaning: "the local tenant's seed file is not valid", troubleshooting: NAMED },
  InvalidVendorSeed: {
    kind: "input",
    meaning: "the vendor host's seed or mirror is not valid",
    troubleshooting: NAMED,
  },
  LocalTenantNotRunning: {
    kind: "config",
    meaning: "the local tenant recorded in credentials.json does not answer",
    troubleshooting: "#localtenantnotrunning",
  },
  LocalTenantRecordInvalid: {
    kind: "config",
    meaning: "the local tenant record (credentials.json) is damaged or names a non-loopback host",
    troubleshooting: "#localtenantrecord",
  },
  LocalTenantUnavailable: {
    kind: "config",
    meaning: "the local tenant cannot start: the optional package azurite is not installed",
    troubleshooting: "#localtenantunavailable",
  },
  MirrorNotReadable: {
    kind: "input",
    meaning: "the vendor host's mirror folder cannot be read",
    troubleshooting: NAMED,
  },
  NotLoopback: {
    kind: "usage",
    meaning: "the local tenant was asked to listen on a host that is not loopback",
    troubleshooting: "#emulatornotloopback",
  },
  SeedNotFound: { kind: "input", meaning: "the local tenant's seed file cannot be read", troubleshooting: NAMED },
  StateFolderUnusable: {
    kind: "input",
    meaning: "the local tenant's state folder cannot be created or locked",
    troubleshooting: NAMED,
  },
  VendorSeedNotFound: { kind: "input", meaning: "the vendor host's seed file cannot be read", troubleshooting: NAMED },
  VersionExists: {
    kind: "input",
    meaning: "the vendor host already publishes that product version",
    troubleshooting: NAMED,
  },
} satisfies Group;

/** The catalogue by area, in the order docs/cli.md lists them. */
const INVENTORY = {
  ExportJobFailed: {
    kind: "graph",
    meaning: "Intune's inventory export job failed",
    troubleshooting: "#exportjobfailed",
  },
  ExportJobNoUrl: {
    kind: "graph",
    meaning: "a completed export job gave no download URL",
    troubleshooting: { none: "the service's answer was unusable: run again; the hint says so" },
  },
  ExportJobTimeout: {
    kind: "timeout",
    meaning: "an inventory export job was still running at its deadline",
    troubleshooting: "#exportjobtimeout",
  },
  InvalidInventoryRules: {
    kind: "input",
    meaning: "the inventory rules (mappings and exclusions) break their schema",
    troubleshooting: "#invalidinventoryrules",
  },
  MalformedReport: {
    kind: "graph",
    meaning: "a row of an exported inventory report is not valid CSV or lacks columns",
    troubleshooting: "#malformedreport",
  },
  ReportDownloadFailed: {
    kind: "graph",
    meaning: "the exported report could not be downloaded",
    troubleshooting: { none: "the message names the HTTP status; run again" },
  },
  ReportTooLarge: {
    kind: "graph",
    meaning: "an exported report (zip, entry or row) is over its limit",
    troubleshooting: { none: "the message names the limit (docs/limits.md); use --via detected-apps" },
  },
  ReportUrlExpired: {
    kind: "graph",
    meaning: "the export's download URL expired twice",
    troubleshooting: "#reporturlexpired",
  },
  TruncatedReport: {
    kind: "graph",
    meaning: "the exported zip is not complete",
    troubleshooting: "#truncatedreport",
  },
  UnexpectedReport: {
    kind: "graph",
    meaning: "the exported zip does not hold the one CSV of the report asked for",
    troubleshooting: { none: "the message names what was found; run again" },
  },
} satisfies Group;

const SYNC = {
  AutoPublishRecordInvalid: {
    kind: "config",
    meaning: "the record of auto-published products is damaged",
    troubleshooting: NAMED,
  },
  HistoryTooNew: {
    kind: "config",
    meaning: "the sync history was written by a newer intune-publisher",
    troubleshooting: "#historytoonew-historyunreadable",
  },
  HistoryUnreadable: {
    kind: "config",
    meaning: "the sync history file is damaged or cannot be opened",
    troubleshooting: "#historytoonew-historyunreadable",
  },
  SubscriptionsNotFound: {
    kind: "input",
    meaning: "the subscriptions file given (or ./subscriptions.yaml) does not exist",
    troubleshooting: NAMED,
  },
  SyncBusy: {
    kind: "usage",
    meaning: "another sync holds the sync lock: this one (from the console) did nothing (the CLI exits 75)",
    troubleshooting: NAMED,
  },
  TenantsNotFound: {
    kind: "input",
    meaning: "the tenants file given (or ./tenants.yaml) does not exist",
    troubleshooting: NAMED,
  },
  TenantsTwoSources: {
    kind: "usage",
    meaning: "a tenants file and the configuration file's tenants: section both list tenants",
    troubleshooting: NAMED,
  },
} satisfies Group;

const CONSOLE = {
  ConsoleHostNotLoopback: {
    kind: "usage",
    meaning: "the console was asked to serve a non-loopback address without a TLS certificate and key",
    troubleshooting: NAMED,
  },
  ConsolePortInUse: {
    kind: "config",
    meaning: "the console cannot listen on the address and port given",
    troubleshooting: NAMED,
  },
  ConsoleRequestInvalid: {
    kind: "usage",
    meaning: "a console page sent a request whose body or field is not valid",
    troubleshooting: NAMED,
  },
} satisfies Group;

const WORKERS = {
  QueueUnavailable: {
    kind: "network",
    meaning: "the Redis server of --queue cannot be reached or refused the sign-in",
    troubleshooting: "#queueunavailable",
  },
} satisfies Group;

export const ERROR_GROUPS = [
  ["General", GENERAL],
  ["Files and app definitions", FILES],
  ["Configuration", CONFIG],
  ["Sign-in", SIGN_IN],
  ["Network", NETWORK],
  ["Microsoft Graph and storage", GRAPH],
  ["Content upload", UPLOAD],
  ["Publish, rollback and removal", LIFECYCLE],
  ["Packages", PACKAGES],
  ["Catalog", CATALOG],
  ["Downloads", DOWNLOADS],
  ["Local tenant", LOCAL_TENANT],
  ["Inventory", INVENTORY],
  ["Sync", SYNC],
  ["Console", CONSOLE],
  ["Workers", WORKERS],
] as const;

export const ERROR_CODES = {
  ...GENERAL,
  ...FILES,
  ...CONFIG,
  ...SIGN_IN,
  ...NETWORK,
  ...GRAPH,
  ...UPLOAD,
  ...LIFECYCLE,
  ...PACKAGES,
  ...CATALOG,
  ...DOWNLOADS,
  ...LOCAL_TENANT,
  ...INVENTORY,
  ...SYNC,
  ...CONSOLE,
  ...WORKERS,
} satisfies Group;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose kind is one of K: for helpers that must keep a kind (and so an exit code). */
export type CodeOfKind<K extends ErrorKind> = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C]["kind"] extends K ? C : never;
}[ErrorCode];

/** Narrows a code to the codes of one kind. */
export function hasKind<K extends ErrorKind>(code: ErrorCode, kind: K): code is CodeOfKind<K> {
  return ERROR_CODES[code].kind === kind;
}
