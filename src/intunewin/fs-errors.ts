import { PublisherError } from "../core/errors.js";

/**
 * File-system failures while writing output, as one clear sentence: a full disk or quota (ENOSPC, EDQUOT) and a
 * denied permission and a file size limit (EFBIG) are the user's to fix, never "damaged content". Anything else
 * passes through unchanged.
 */
export function mapFsError(e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof PublisherError || typeof err?.code !== "string") return e;
  if (err.code === "EACCES" || err.code === "EPERM") {
    return new PublisherError("AccessDenied", `Permission denied on "${err.path ?? "a file"}".`, {
      hint: "Make the source folder readable and the output folder writable for this user.",
      cause: e,
    });
  }
  if (err.code === "ENOSPC" || err.code === "EDQUOT") {
    const what = err.code === "EDQUOT" ? "The disk quota of the output folder is used up" : "The output disk is full";
    return new PublisherError("DiskFull", `${what} (${err.code}); nothing was written.`, {
      hint: "Free space in the output folder's file system, or choose an output folder on another disk.",
      cause: e,
    });
  }
  if (err.code === "EFBIG") {
    return new PublisherError(
      "OutputFileTooLarge",
      "The output file is larger than the output folder's file system or this process's file size limit allows (EFBIG); nothing was written.",
      {
        hint: "Choose an output folder on a file system without a 4 GiB file limit (not FAT32), or raise the limit (ulimit -f).",
        cause: e,
      },
    );
  }
  return e;
}
