/**
 * Intune's Graph endpoints, typed: mobile apps and their content, assignments, relationships, categories, groups,
 * assignment filters, scope tags, Enrollment Status Page profiles and the device inventory. Each call takes and
 * returns the wire shapes of src/core/wire/graph.ts; the paths live in `paths.ts`. No decisions here: what to read
 * and write is the use cases' (src/publish), what to change is the pure planners' (src/core).
 * Reference: docs/graph-client.md.
 */
import type {
  AssignmentFilterWire,
  DetectedAppWire,
  EspProfileWire,
  ExportJobCreateWire,
  ExportJobWire,
  GroupWire,
  ManagedDeviceWire,
  MobileAppAssignmentWire,
  MobileAppCategoryWire,
  MobileAppRelationshipWire,
  MobileAppRelationshipWriteWire,
  RoleScopeTagWire,
  Win32LobAppWire,
  Win32LobAppWritableWire,
} from "../../core/wire/graph.js";
import { ODATA_TYPE } from "../../core/wire/graph.js";
import type { GraphClient, GraphRequestOptions } from "./client.js";
import { ContentEndpoints } from "./content.js";
import { detectedAppPath, espProfilePath, exportJobPath, GRAPH_PATHS, groupPath, mobileAppPath } from "./paths.js";

/** The `$filter` that lists only Win32 apps among `mobileApps`. */
export const WIN32_FILTER = "isof('microsoft.graph.win32LobApp')";

/** A string literal in an OData `$filter` (quotes doubled). */
export const odataString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

const opts = (signal: AbortSignal | undefined, more: GraphRequestOptions = {}): GraphRequestOptions =>
  signal === undefined ? more : { ...more, signal };

export class IntuneApi {
  constructor(readonly graph: GraphClient) {}

  // ---- mobile apps ----

  /** Every win32LobApp of the tenant (paged). */
  listWin32Apps(signal?: AbortSignal): Promise<Win32LobAppWire[]> {
    return this.graph.listAll<Win32LobAppWire>(
      GRAPH_PATHS.mobileApps,
      opts(signal, { query: { $filter: WIN32_FILTER } }),
    );
  }

  /**
   * Every win32LobApp with its assignments and linked categories (`$expand=assignments,categories`): what a publish
   * run compares, in one paged listing instead of two reads per app.
   */
  listWin32AppsExpanded(signal?: AbortSignal): Promise<Win32LobAppWire[]> {
    return this.graph.listAll<Win32LobAppWire>(
      GRAPH_PATHS.mobileApps,
      opts(signal, { query: { $filter: WIN32_FILTER, $expand: "assignments,categories" } }),
    );
  }

  /** One app with every property (a list leaves some out, such as `largeIcon`). */
  getApp(appId: string, signal?: AbortSignal): Promise<Win32LobAppWire> {
    return this.graph.get<Win32LobAppWire>(mobileAppPath(appId), opts(signal));
  }

  /** An app's notes, where the ownership stamp lives. */
  getAppNotes(appId: string, signal?: AbortSignal): Promise<Pick<Win32LobAppWire, "id" | "notes">> {
    return this.graph.get(mobileAppPath(appId), opts(signal, { query: { $select: "id,notes" } }));
  }

  createApp(body: Win32LobAppWritableWire, signal?: AbortSignal): Promise<Win32LobAppWire> {
    return this.graph.post<Win32LobAppWire>(GRAPH_PATHS.mobileApps, body, opts(signal));
  }

  /** PATCH the given properties (the body carries `@odata.type`). */
  async patchApp(appId: string, body: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<void> {
    await this.graph.patch(mobileAppPath(appId), body, opts(signal));
  }

  deleteApp(appId: string, signal?: AbortSignal): Promise<void> {
    return this.graph.delete(mobileAppPath(appId), opts(signal));
  }

  /** The content endpoints of one app (content versions, files, commit). */
  content(appId: string): ContentEndpoints {
    return new ContentEndpoints(this.graph, appId);
  }

  // ---- assignments ----

  listAssignments(appId: string, signal?: AbortSignal): Promise<MobileAppAssignmentWire[]> {
    return this.graph.listAll<MobileAppAssignmentWire>(`${mobileAppPath(appId)}/assignments`, opts(signal));
  }

  /** `POST …/assign`: replaces every assignment of the app with `assignments` (`[]` removes them all). */
  async assign(appId: string, assignments: readonly MobileAppAssignmentWire[], signal?: AbortSignal): Promise<void> {
    await this.graph.post(`${mobileAppPath(appId)}/assign`, { mobileAppAssignments: assignments }, opts(signal));
  }

  // ---- relationships ----

  /** Both directions: the app's own links (`child`) and the links other apps have to it (`parent`). */
  listRelationships(appId: string, signal?: AbortSignal): Promise<MobileAppRelationshipWire[]> {
    return this.graph.listAll<MobileAppRelationshipWire>(`${mobileAppPath(appId)}/relationships`, opts(signal));
  }

  /** `POST …/updateRelationships`: replaces every outgoing link of the app. */
  async updateRelationships(
    appId: string,
    relationships: readonly MobileAppRelationshipWriteWire[],
    signal?: AbortSignal,
  ): Promise<void> {
    await this.graph.post(`${mobileAppPath(appId)}/updateRelationships`, { relationships }, opts(signal));
  }

  // ---- categories ----

  listCategories(signal?: AbortSignal): Promise<MobileAppCategoryWire[]> {
    return this.graph.listAll<MobileAppCategoryWire>(
      GRAPH_PATHS.mobileAppCategories,
      opts(signal, { query: { $select: "id,displayName" } }),
    );
  }

  /** The categories linked to an app. */
  listAppCategories(appId: string, signal?: AbortSignal): Promise<MobileAppCategoryWire[]> {
    return this.graph.listAll<MobileAppCategoryWire>(`${mobileAppPath(appId)}/categories`, opts(signal));
  }

  /** `POST …/categories/$ref`, the reference under this client's Graph root. */
  async linkCategory(appId: string, categoryId: string, signal?: AbortSignal): Promise<void> {
    await this.graph.post(
      `${mobileAppPath(appId)}/categories/$ref`,
      { "@odata.id": `${this.graph.baseUrl}${GRAPH_PATHS.mobileAppCategories}/${categoryId}` },
      opts(signal),
    );
  }

  /** `DELETE …/categories/{id}/$ref` */
  unlinkCategory(appId: string, categoryId: string, signal?: AbortSignal): Promise<void> {
    return this.graph.delete(`${mobileAppPath(appId)}/categories/${encodeURIComponent(categoryId)}/$ref`, opts(signal));
  }

  // ---- directory groups (GroupMember.Read.All) ----

  getGroup(groupId: string, signal?: AbortSignal): Promise<GroupWire> {
    return this.graph.get<GroupWire>(groupPath(groupId), opts(signal, { query: { $select: "id,displayName" } }));
  }

  /** Groups whose display name equals `name` (Graph compares case-insensitively). */
  listGroupsNamed(name: string, signal?: AbortSignal): Promise<GroupWire[]> {
    return this.graph.listAll<GroupWire>(
      GRAPH_PATHS.groups,
      opts(signal, { query: { $filter: `displayName eq ${odataString(name)}`, $select: "id,displayName", $top: 999 } }),
    );
  }

  /**
   * Up to `top` groups (one page) with a word of the display name starting with one of `words`: Graph's `$search`
   * on directory objects (an advanced query: `ConsistencyLevel: eventual`), which tokenises names into words.
   */
  async searchGroupsByWords(words: readonly string[], top: number, signal?: AbortSignal): Promise<GroupWire[]> {
    if (words.length === 0) return [];
    const search = words.map((w) => `"displayName:${w.replace(/["\\]/g, "")}"`).join(" OR ");
    const page = await this.graph.get<{ value?: GroupWire[] }>(
      GRAPH_PATHS.groups,
      opts(signal, {
        query: { $search: search, $select: "id,displayName", $top: top },
        headers: { ConsistencyLevel: "eventual" },
      }),
    );
    return page.value ?? [];
  }

  /** Up to `top` groups whose display name starts with `prefix`. */
  listGroupsStartingWith(prefix: string, top: number, signal?: AbortSignal): Promise<GroupWire[]> {
    return this.graph.listAll<GroupWire>(
      GRAPH_PATHS.groups,
      opts(signal, {
        query: { $filter: `startswith(displayName,${odataString(prefix)})`, $select: "id,displayName", $top: top },
      }),
    );
  }

  // ---- assignment filters, scope tags ----

  listAssignmentFilters(signal?: AbortSignal): Promise<AssignmentFilterWire[]> {
    return this.graph.listAll<AssignmentFilterWire>(GRAPH_PATHS.assignmentFilters, opts(signal));
  }

  listScopeTags(signal?: AbortSignal): Promise<RoleScopeTagWire[]> {
    return this.graph.listAll<RoleScopeTagWire>(GRAPH_PATHS.roleScopeTags, opts(signal));
  }

  // ---- Enrollment Status Page profiles (DeviceManagementServiceConfig.*) ----

  /** The ESP profiles among the tenant's enrollment configurations. */
  async listEspProfiles(signal?: AbortSignal): Promise<EspProfileWire[]> {
    const all = await this.graph.listAll<EspProfileWire>(GRAPH_PATHS.enrollmentConfigurations, opts(signal));
    return all.filter((c) => c["@odata.type"] === ODATA_TYPE.espConfiguration);
  }

  getEspProfile(profileId: string, signal?: AbortSignal): Promise<EspProfileWire> {
    return this.graph.get<EspProfileWire>(espProfilePath(profileId), opts(signal));
  }

  /** PATCH a profile's whole `selectedMobileAppIds`. */
  async setEspProfileApps(
    profile: Pick<EspProfileWire, "id" | "@odata.type">,
    selectedMobileAppIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<void> {
    await this.graph.patch(
      espProfilePath(profile.id),
      { "@odata.type": profile["@odata.type"], selectedMobileAppIds },
      opts(signal),
    );
  }

  // ---- inventory (DeviceManagementManagedDevices.Read.All) ----

  /** The apps Intune detected on managed devices, page by page (a tenant may have millions of rows). */
  detectedApps(signal?: AbortSignal, pageSize?: number): AsyncGenerator<DetectedAppWire> {
    const query = pageSize === undefined ? {} : { query: { $top: pageSize } };
    return this.graph.list<DetectedAppWire>(GRAPH_PATHS.detectedApps, opts(signal, query));
  }

  /** The managed devices that have one detected app. */
  /** How many managed devices the tenant has (`$count` of one row). */
  async managedDeviceCount(signal?: AbortSignal): Promise<number | undefined> {
    const r = await this.graph.get<{ "@odata.count"?: number }>(
      GRAPH_PATHS.managedDevices,
      opts(signal, { query: { $top: 1, $count: "true", $select: "id" } }),
    );
    return r["@odata.count"];
  }

  /** Starts a report export (reports export API). */
  createExportJob(body: ExportJobCreateWire, signal?: AbortSignal): Promise<ExportJobWire> {
    return this.graph.post<ExportJobWire>(GRAPH_PATHS.exportJobs, body, opts(signal));
  }

  getExportJob(id: string, signal?: AbortSignal): Promise<ExportJobWire> {
    return this.graph.get<ExportJobWire>(exportJobPath(id), opts(signal));
  }

  devicesWithDetectedApp(detectedAppId: string, signal?: AbortSignal): AsyncGenerator<ManagedDeviceWire> {
    return this.graph.list<ManagedDeviceWire>(`${detectedAppPath(detectedAppId)}/managedDevices`, opts(signal));
  }
}
