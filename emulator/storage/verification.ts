// The commit's verification of an uploaded blob (docs/reference/graph-win32-upload.md §2.7, §4 items 16–19): its block
// list, its length, then its bytes streamed once through the payload checks of verify-payload.ts.
import { RestError, type BlockBlobClient } from "@azure/storage-blob";
import {
  checkBlobLength,
  checkEncryptionInfo,
  checkExpectedSizes,
  verifyPayloadStream,
  type ExpectedContent,
  type VerificationResult,
} from "./verify-payload.js";

/** The checks of a committed blob, read with the account key (`blob`); `reason` is one sentence. */
export async function verifyCommittedBlob(
  blob: BlockBlobClient,
  expected: ExpectedContent,
): Promise<VerificationResult> {
  const sizes = checkExpectedSizes(expected);
  if (!sizes.ok) return sizes;
  const info = checkEncryptionInfo(expected.fileEncryptionInfo);
  if (!info.ok) return info;

  let committedBlocks: number;
  try {
    const list = await blob.getBlockList("all");
    committedBlocks = list.committedBlocks?.length ?? 0;
    const uncommitted = list.uncommittedBlocks?.length ?? 0;
    if (committedBlocks === 0 && uncommitted > 0) {
      return {
        ok: false,
        check: "blobNotCommitted",
        reason: `No block list was committed: the blob has ${uncommitted} uncommitted block(s) and no content (Put Block List missing or failed).`,
      };
    }
  } catch (e) {
    if (e instanceof RestError && e.statusCode === 404) {
      return { ok: false, check: "blobMissing", reason: "No blob was uploaded to the upload URL." };
    }
    throw e;
  }
  if (committedBlocks === 0) {
    return {
      ok: false,
      check: "blobNotCommitted",
      reason: "The blob has no committed block list: upload it with Put Block and Put Block List.",
    };
  }
  const properties = await blob.getProperties();
  const length = checkBlobLength(properties.contentLength ?? 0, expected.sizeEncrypted);
  if (!length.ok) return length;
  // ifMatch: the bytes verified are those whose length was just checked.
  const download = await blob.download(0, undefined, { conditions: { ifMatch: properties.etag } });
  const body = download.readableStreamBody;
  if (body === undefined) throw new Error("The storage SDK returned no body stream for a download.");
  try {
    return await verifyPayloadStream(body as AsyncIterable<Uint8Array>, expected, info.decoded);
  } finally {
    // Stops the transfer when verification ended early (header mismatch).
    const destroyable = body as NodeJS.ReadableStream & { destroy?: () => void };
    destroyable.destroy?.();
  }
}
