/**
 * The commit body's `fileEncryptionInfo` from a package's Detection.xml (docs/reference/graph-win32-upload.md §2.7).
 */
import { PublisherError } from "../../core/errors.js";
import type { FileEncryptionInfoWire } from "../../core/wire/graph.js";
import { ODATA_TYPE } from "../../core/wire/graph.js";
import type { EncryptionInfo } from "../../intunewin/detection-xml.js";

/** Detection.xml's EncryptionInfo as the commit body wants it: the same strings, camelCase names (§2.7). */
export function fileEncryptionInfo(e: EncryptionInfo): FileEncryptionInfoWire {
  if (e.ProfileIdentifier !== "ProfileVersion1" || e.FileDigestAlgorithm !== "SHA256")
    throw new PublisherError(
      "UnsupportedEncryptionProfile",
      `The package's encryption profile is ${e.ProfileIdentifier} / ${e.FileDigestAlgorithm}; Intune accepts only ProfileVersion1 / SHA256.`,
    );
  return {
    "@odata.type": ODATA_TYPE.fileEncryptionInfo,
    encryptionKey: e.EncryptionKey,
    macKey: e.MacKey,
    initializationVector: e.InitializationVector,
    mac: e.Mac,
    profileIdentifier: "ProfileVersion1",
    fileDigest: e.FileDigest,
    fileDigestAlgorithm: "SHA256",
  };
}
