// Azurite 3.35.0 ships no type declarations (TS7016). These cover only the in-process entry points we load
// with createRequire (docs/reference/azurite.md §1.1). Not a public API: re-check them when the pinned version changes.

declare module "azurite/dist/src/common/persistence/MemoryExtentStore" {
  /** Per-server in-memory extent store; the size limit is in bytes (undefined = unlimited). */
  export class MemoryExtentChunkStore {
    constructor(sizeLimit?: number);
    totalSize(): number;
    sizeLimit(): number | undefined;
  }
  /** Half of the machine's RAM, in bytes: Azurite's default limit. */
  export const DEFAULT_EXTENT_MEMORY_LIMIT: number;
}

declare module "azurite/dist/src/blob/BlobConfiguration" {
  import type { MemoryExtentChunkStore } from "azurite/dist/src/common/persistence/MemoryExtentStore";

  export interface StoreDestination {
    locationId: string;
    locationPath: string;
    maxConcurrency: number;
  }

  export default class BlobConfiguration {
    constructor(
      host: string,
      port: number,
      keepAliveTimeout: number,
      metadataDBPath: string,
      extentDBPath: string,
      persistencePathArray: StoreDestination[],
      enableAccessLog: boolean,
      accessLogWriteStream: undefined,
      enableDebugLog: boolean,
      debugLogFilePath: string | undefined,
      loose: boolean,
      skipApiVersionCheck: boolean,
      cert: string,
      key: string,
      pwd: string,
      oauth: string | undefined,
      disableProductStyleUrl: boolean,
      isMemoryPersistence: boolean,
      memoryStore?: MemoryExtentChunkStore,
    );
  }
}

declare module "azurite/dist/src/blob/BlobServer" {
  import type BlobConfiguration from "azurite/dist/src/blob/BlobConfiguration";

  export default class BlobServer {
    constructor(configuration: BlobConfiguration);
    start(): Promise<void>;
    /** e.g. "https://127.0.0.1:35939": the real port once started with port 0. */
    getHttpServerAddress(): string;
    close(): Promise<void>;
    /** Deletes persisted data (extents and metadata). Only valid once closed. */
    clean(): Promise<void>;
  }
}
