/** Verified downloads for the catalog: the API `catalog download` / `import` and publishing use. */
export { defaultDownloadCacheDir, DownloadCache } from "./cache.js";
export {
  DEFAULT_DOWNLOAD_ATTEMPTS,
  DEFAULT_DOWNLOAD_CONCURRENCY,
  DEFAULT_MAX_DOWNLOAD_BYTES,
  DEFAULT_MAX_REDIRECTS,
  Downloader,
} from "./downloader.js";
export type {
  DownloadEvent,
  DownloaderOptions,
  DownloadOutcome,
  DownloadRequest,
  DownloadResult,
  HashCheck,
} from "./downloader.js";
export { downloadFileName, safeFileName } from "./file-name.js";
export { DownloadLockFile, LOCK_FILE_MAX_BYTES } from "./lock-file.js";
export type { LockRow } from "./lock-file.js";
export { msiProductVersion } from "./msi-version.js";
export { RateMeter } from "./progress.js";
export { saveDownload } from "./save.js";
