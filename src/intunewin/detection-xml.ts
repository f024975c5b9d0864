import { XMLParser } from "fast-xml-parser";
import { PublisherError } from "../core/errors.js";

/** The version of Microsoft's tool whose output format we reproduce (written as ToolVersion). */
export const TOOL_VERSION = "1.8.7.0";

export interface EncryptionInfo {
  EncryptionKey: string;
  MacKey: string;
  InitializationVector: string;
  Mac: string;
  ProfileIdentifier: string;
  FileDigest: string;
  FileDigestAlgorithm: string;
}

/** Detection.xml's MsiInfo block, in the tool's element order. */
export interface MsiInfo {
  MsiProductCode: string;
  MsiProductVersion: string;
  MsiPackageCode: string;
  MsiUpgradeCode: string;
  MsiExecutionContext: "System" | "User" | "Any";
  MsiRequiresLogon: boolean;
  MsiRequiresReboot: boolean;
  MsiIsMachineInstall: boolean;
  MsiIsUserInstall: boolean;
  MsiIncludesServices: boolean;
  MsiIncludesODBCDataSource: boolean;
  MsiContainsSystemRegistryKeys: boolean;
  MsiContainsSystemFolders: boolean;
  MsiPublisher: string;
}

export interface DetectionInfo {
  ToolVersion: string;
  Name: string;
  Description?: string;
  UnencryptedContentSize: number;
  FileName: string;
  SetupFile: string;
  EncryptionInfo: EncryptionInfo;
  MsiInfo?: MsiInfo;
}

const MSI_ORDER: (keyof MsiInfo)[] = [
  "MsiProductCode",
  "MsiProductVersion",
  "MsiPackageCode",
  "MsiUpgradeCode",
  "MsiExecutionContext",
  "MsiRequiresLogon",
  "MsiRequiresReboot",
  "MsiIsMachineInstall",
  "MsiIsUserInstall",
  "MsiIncludesServices",
  "MsiIncludesODBCDataSource",
  "MsiContainsSystemRegistryKeys",
  "MsiContainsSystemFolders",
  "MsiPublisher",
];
const ENC_ORDER: (keyof EncryptionInfo)[] = [
  "EncryptionKey",
  "MacKey",
  "InitializationVector",
  "Mac",
  "ProfileIdentifier",
  "FileDigest",
  "FileDigestAlgorithm",
];

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * Detection.xml exactly as .NET's XmlSerializer writes it in the official tool: UTF-8 without BOM or
 * declaration, 2-space indent, CRLF line ends, no trailing newline, null elements omitted.
 */
export function writeDetectionXml(info: DetectionInfo): Buffer {
  const el = (indent: number, name: string, value: string | number | boolean): string =>
    `${" ".repeat(indent)}<${name}>${esc(String(value))}</${name}>`;
  const lines = [
    `<ApplicationInfo xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ToolVersion="${esc(info.ToolVersion)}">`,
    el(2, "Name", info.Name),
  ];
  if (info.Description !== undefined) lines.push(el(2, "Description", info.Description));
  lines.push(
    el(2, "UnencryptedContentSize", info.UnencryptedContentSize),
    el(2, "FileName", info.FileName),
    el(2, "SetupFile", info.SetupFile),
    "  <EncryptionInfo>",
    ...ENC_ORDER.map((k) => el(4, k, info.EncryptionInfo[k])),
    "  </EncryptionInfo>",
  );
  if (info.MsiInfo) {
    const msi = info.MsiInfo;
    lines.push("  <MsiInfo>", ...MSI_ORDER.map((k) => el(4, k, msi[k])), "  </MsiInfo>");
  }
  lines.push("</ApplicationInfo>");
  return Buffer.from(lines.join("\r\n"), "utf8");
}

function invalid(what: string): PublisherError {
  return new PublisherError("DetectionXmlInvalid", `Detection.xml ${what}.`, {
    hint: "The package is damaged or was not made by a compatible tool: package the setup folder again.",
  });
}

/** Decodes Detection.xml bytes, tolerating a BOM, a declaration and UTF-16 as other writers produce them. */
function decode(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString("utf16le");
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2));
    swapped.swap16();
    return swapped.toString("utf16le");
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString("utf8");
  return bytes.toString("utf8");
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function base64Of(value: string | undefined, name: string, length: number): string {
  if (value === undefined || !BASE64.test(value) || Buffer.from(value, "base64").length !== length) {
    throw invalid(`has no valid ${name} (expected ${length} bytes in base64)`);
  }
  return value;
}

export function parseDetectionXml(bytes: Buffer): DetectionInfo {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@",
    parseTagValue: false,
    trimValues: true,
    processEntities: true,
  });
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(decode(bytes), true) as Record<string, unknown>;
  } catch (e) {
    throw invalid(`is not well-formed XML (${(e as Error).message.split("\n")[0]})`);
  }
  const root = doc["ApplicationInfo"] as Record<string, unknown> | undefined;
  if (!root || typeof root !== "object") throw invalid("has no ApplicationInfo root element");
  const str = (o: Record<string, unknown>, k: string): string | undefined =>
    typeof o[k] === "string" ? (o[k] as string) : undefined;
  const enc = root["EncryptionInfo"] as Record<string, unknown> | undefined;
  if (!enc || typeof enc !== "object") throw invalid("has no EncryptionInfo element");
  const size = str(root, "UnencryptedContentSize");
  if (size === undefined || !/^\d+$/.test(size)) throw invalid("has no valid UnencryptedContentSize");
  const fileName = str(root, "FileName");
  if (!fileName) throw invalid("has no FileName");
  const info: DetectionInfo = {
    ToolVersion: str(root, "@ToolVersion") ?? "",
    Name: str(root, "Name") ?? "",
    UnencryptedContentSize: Number(size),
    FileName: fileName,
    SetupFile: str(root, "SetupFile") ?? "",
    EncryptionInfo: {
      EncryptionKey: base64Of(str(enc, "EncryptionKey"), "EncryptionKey", 32),
      MacKey: base64Of(str(enc, "MacKey"), "MacKey", 32),
      InitializationVector: base64Of(str(enc, "InitializationVector"), "InitializationVector", 16),
      Mac: base64Of(str(enc, "Mac"), "Mac", 32),
      ProfileIdentifier: str(enc, "ProfileIdentifier") ?? "",
      FileDigest: base64Of(str(enc, "FileDigest"), "FileDigest", 32),
      FileDigestAlgorithm: str(enc, "FileDigestAlgorithm") ?? "",
    },
  };
  const description = str(root, "Description");
  if (description !== undefined) info.Description = description;
  if (info.EncryptionInfo.ProfileIdentifier !== "ProfileVersion1") {
    throw invalid(`uses ProfileIdentifier "${info.EncryptionInfo.ProfileIdentifier}"; only ProfileVersion1 exists`);
  }
  if (info.EncryptionInfo.FileDigestAlgorithm !== "SHA256") {
    throw invalid(`uses FileDigestAlgorithm "${info.EncryptionInfo.FileDigestAlgorithm}"; only SHA256 exists`);
  }
  const msi = root["MsiInfo"] as Record<string, unknown> | undefined;
  if (msi && typeof msi === "object") {
    const bool = (k: string): boolean => str(msi, k)?.toLowerCase() === "true";
    const ctx = str(msi, "MsiExecutionContext");
    info.MsiInfo = {
      MsiProductCode: str(msi, "MsiProductCode") ?? "",
      MsiProductVersion: str(msi, "MsiProductVersion") ?? "",
      MsiPackageCode: str(msi, "MsiPackageCode") ?? "",
      MsiUpgradeCode: str(msi, "MsiUpgradeCode") ?? "",
      MsiExecutionContext: ctx === "System" || ctx === "User" ? ctx : "Any",
      MsiRequiresLogon: bool("MsiRequiresLogon"),
      MsiRequiresReboot: bool("MsiRequiresReboot"),
      MsiIsMachineInstall: bool("MsiIsMachineInstall"),
      MsiIsUserInstall: bool("MsiIsUserInstall"),
      MsiIncludesServices: bool("MsiIncludesServices"),
      MsiIncludesODBCDataSource: bool("MsiIncludesODBCDataSource"),
      MsiContainsSystemRegistryKeys: bool("MsiContainsSystemRegistryKeys"),
      MsiContainsSystemFolders: bool("MsiContainsSystemFolders"),
      MsiPublisher: str(msi, "MsiPublisher") ?? "",
    };
  }
  return info;
}
