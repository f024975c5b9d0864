/** The content upload engine: see docs/upload.md. */
export {
  BLOCK_BUFFER_BUDGET,
  concurrencyFor,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_DEADLINES,
  MAX_DEFAULT_CONCURRENCY,
  resumeOrStart,
  uploadContent,
} from "./upload.js";
export type {
  StorageOptions,
  UploadContentOptions,
  UploadDeadlines,
  UploadProgressEvent,
  UploadResult,
} from "./upload.js";
export { UploadError } from "./errors.js";
export type { UploadLeftover, UploadStage } from "./errors.js";
export { UploadStateError, DEFAULT_POLL } from "./wait.js";
export type { PollOptions, WaitStage } from "./wait.js";
export { DEFAULT_RENEWAL } from "./sas.js";
export type { RenewalEvent, RenewalPolicy } from "./sas.js";
export { packageDigest, UploadJournal } from "./journal.js";
export type { UploadJournalEntry } from "./journal.js";
export { fileEncryptionInfo } from "./encryption-info.js";
