/**
 * Typed Graph endpoints of the content flow (docs/reference/graph-win32-upload.md §2.3–2.8). Every content call carries
 * the `microsoft.graph.win32LobApp` cast segment (§2.0). Each call gets its own `client-request-id`, remembered so a
 * state failure seen on a later poll can still be reported with the ids of the calls that led to it.
 */
import { randomUUID } from "node:crypto";
import type { GraphClient } from "./client.js";
import type {
  CommitFileBodyWire,
  FileEncryptionInfoWire,
  MimeContentWire,
  MobileAppContentFileCreateWire,
  MobileAppContentFileWire,
  MobileAppContentWire,
  Win32LobAppWire,
} from "../../core/wire/graph.js";
import { ODATA_TYPE } from "../../core/wire/graph.js";
import { mobileAppPath } from "./paths.js";

const CAST = "microsoft.graph.win32LobApp";

export class ContentEndpoints {
  /** the client-request-id of the most recent call */
  lastClientRequestId: string | undefined;

  constructor(
    private readonly graph: GraphClient,
    readonly appId: string,
  ) {}

  private opts(signal: AbortSignal | undefined, replaySafe?: boolean) {
    const id = randomUUID();
    this.lastClientRequestId = id;
    return { signal, headers: { "client-request-id": id }, ...(replaySafe === undefined ? {} : { replaySafe }) };
  }

  private get versions(): string {
    return `${mobileAppPath(this.appId)}/${CAST}/contentVersions`;
  }

  filePath(contentVersionId: string, fileId: string): string {
    return `${this.versions}/${encodeURIComponent(contentVersionId)}/files/${encodeURIComponent(fileId)}`;
  }

  /** §2.3: body `{}`; ids are small integers as strings, treated as opaque. */
  createContentVersion(signal?: AbortSignal): Promise<MobileAppContentWire> {
    return this.graph.post<MobileAppContentWire>(this.versions, {}, this.opts(signal));
  }

  /** §2.4 */
  createFile(
    contentVersionId: string,
    body: MobileAppContentFileCreateWire,
    signal?: AbortSignal,
  ): Promise<MobileAppContentFileWire> {
    return this.graph.post<MobileAppContentFileWire>(
      `${this.versions}/${encodeURIComponent(contentVersionId)}/files`,
      { "@odata.type": ODATA_TYPE.mobileAppContentFile, ...body },
      this.opts(signal),
    );
  }

  getFile(contentVersionId: string, fileId: string, signal?: AbortSignal): Promise<MobileAppContentFileWire> {
    return this.graph.get<MobileAppContentFileWire>(this.filePath(contentVersionId, fileId), this.opts(signal));
  }

  /** §2.6: no body ("Do not supply a request body"); renewing twice is harmless, so it may be replayed. */
  async renewUpload(contentVersionId: string, fileId: string, signal?: AbortSignal): Promise<void> {
    await this.graph.post(`${this.filePath(contentVersionId, fileId)}/renewUpload`, undefined, this.opts(signal, true));
  }

  /** §2.7: 204; the result arrives later as the file's uploadState. Not replayed blindly (see the caller). */
  async commit(
    contentVersionId: string,
    fileId: string,
    info: FileEncryptionInfoWire,
    signal?: AbortSignal,
  ): Promise<void> {
    const body: CommitFileBodyWire = { fileEncryptionInfo: info };
    await this.graph.post(`${this.filePath(contentVersionId, fileId)}/commit`, body, this.opts(signal, false));
  }

  /** §2.8: the derived `@odata.type` is required; `largeIcon` re-sent because this PATCH clears it otherwise. */
  /** `extra`: other properties of the app written by the same PATCH (one write instead of two). */
  async setCommittedContentVersion(
    contentVersionId: string,
    largeIcon: MimeContentWire | undefined,
    signal?: AbortSignal,
    extra: Readonly<Record<string, unknown>> = {},
  ): Promise<Win32LobAppWire | undefined> {
    const body: Record<string, unknown> = {
      ...extra,
      "@odata.type": ODATA_TYPE.win32LobApp,
      committedContentVersion: contentVersionId,
    };
    if (largeIcon !== undefined) body["largeIcon"] = largeIcon;
    // 200 with the app or 204 (§2.8): both accepted.
    return this.graph.patch<Win32LobAppWire | undefined>(mobileAppPath(this.appId), body, this.opts(signal));
  }

  getApp(signal?: AbortSignal): Promise<Win32LobAppWire> {
    return this.graph.get<Win32LobAppWire>(mobileAppPath(this.appId), this.opts(signal));
  }
}
