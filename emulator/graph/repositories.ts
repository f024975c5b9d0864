/**
 * Typed repositories over the store (store.ts: plain JSON entities, one collection per tenant and name, in memory
 * or in a file): one per entity set the Graph handlers keep, each with the record type it holds and the queries
 * the handlers need. Collection names and record shapes are what `graph-state.json` and the admin API's state
 * dump contain, so they do not change lightly.
 */
import { randomUUID } from "node:crypto";
import { ODATA_TYPE } from "../../src/core/wire/graph.js";
import type {
  FileEncryptionInfoWire,
  MobileAppAssignmentWire,
  MobileAppContentFileWire,
  UploadState,
  Win32LobAppWire,
} from "../../src/core/wire/graph.js";
import type { Collection, Entity, Store } from "../store.js";
import { notFound } from "./errors.js";
import type { ExportJobRecord } from "./handlers/reports.js";

/** Collection names in the store. */
export const COLLECTIONS = {
  groups: "groups",
  assignmentFilters: "assignmentFilters",
  roleScopeTags: "roleScopeTags",
  enrollmentConfigurations: "deviceEnrollmentConfigurations",
  managedDevices: "managedDevices",
  detectedApps: "detectedApps",
  mobileApps: "mobileApps",
  contentVersions: "mobileAppContentVersions",
  contentFiles: "mobileAppContentFiles",
  assignments: "mobileAppAssignments",
  relationships: "mobileAppRelationships",
  categoryLinks: "mobileAppCategoryLinks",
  exportJobs: "deviceManagementExportJobs",
} as const;

/** The content-file collection's name (tests read upload records from the admin API's state dump). */
export const CONTENT_FILES = COLLECTIONS.contentFiles;

/** Open-typed properties: what a client sent (validated by the model) or the seed declared. */
interface OpenProperties {
  [property: string]: unknown;
}

/** What the server maintains on an app (Graph's read-only properties, and the committed content version). */
type ServerSetProperties =
  | "createdDateTime"
  | "lastModifiedDateTime"
  | "uploadState"
  | "publishingState"
  | "isAssigned"
  | "dependentAppCount"
  | "supersedingAppCount"
  | "supersededAppCount"
  | "committedContentVersion"
  | "size";

/** A win32LobApp as stored: what its create and PATCHes set, and what the server maintains. */
export interface AppRecord extends Entity, OpenProperties, Pick<Win32LobAppWire, ServerSetProperties> {
  "@odata.type": string;
}

/** A content version: ids "1", "2", … per app; keyed `<appId>|<contentVersionId>`. */
export interface ContentVersionRecord extends Entity {
  appId: string;
  contentVersionId: string;
}

/** A content file as stored: the wire object plus the upload-state machine's bookkeeping (upload-state.ts). */
export interface FileRecord extends Entity {
  appId: string;
  contentVersionId: string;
  file: MobileAppContentFileWire;
  /** the URL created at registration, revealed when the request stage ends */
  uploadUri?: string;
  /** when the current pending state ends (epoch ms) */
  pendingUntil?: number;
  /** where a pending state goes when it ends */
  pendingTo?: UploadState;
  encryptionInfo?: FileEncryptionInfoWire;
  /** why the commit failed, for the admin API and tests */
  failureReason?: string;
}

export type StoredAssignment = MobileAppAssignmentWire & { id: string };

/** An app's assignment, keyed `<appId>|<assignment id>`. */
export interface AssignmentRecord extends Entity {
  appId: string;
  assignment: StoredAssignment;
}

/** A supersedence or dependency link from `sourceId` (the app that supersedes or depends) to `targetId`. */
export interface RelationshipRecord extends Entity {
  sourceId: string;
  targetId: string;
  kind: "supersedence" | "dependency";
  supersedenceType?: string;
  dependencyType?: string;
}

/** An app's link to a category, keyed `<appId>|<categoryId>`. */
export interface CategoryLinkRecord extends Entity {
  appId: string;
  categoryId: string;
}

/** Seeded directory and device objects: the seed's properties plus defaults (seed-entities.ts). */
export interface GroupRecord extends Entity, OpenProperties {
  displayName: string;
}
export interface AssignmentFilterRecord extends Entity, OpenProperties {
  displayName: string;
  platform?: string;
}
export interface ScopeTagRecord extends Entity, OpenProperties {
  displayName: string;
}
export interface EnrollmentConfigurationRecord extends Entity, OpenProperties {
  "@odata.type": string;
  version?: number;
  /** the ESP's blocking apps */
  selectedMobileAppIds?: string[];
}
export interface ManagedDeviceRecord extends Entity, OpenProperties {}
export interface DetectedAppRecord extends Entity, OpenProperties {
  /** the managed devices that have the app (not a Graph property: left out of answers) */
  deviceIds?: string[];
}

/** The operations every repository has: those of its collection. */
export class Repository<T extends Entity> {
  constructor(protected readonly items: Collection<T>) {}
  get(id: string): T | undefined {
    return this.items.get(id);
  }
  /** a snapshot in insertion order */
  list(): T[] {
    return this.items.list();
  }
  put(item: T): void {
    this.items.put(item);
  }
  delete(id: string): boolean {
    return this.items.delete(id);
  }
  /** deletes what `match` selects; true when anything went */
  deleteWhere(match: (item: T) => boolean): boolean {
    let dropped = false;
    for (const item of this.items.list()) if (match(item)) dropped = this.items.delete(item.id) || dropped;
    return dropped;
  }
}

export class AppRepository extends Repository<AppRecord> {
  /**
   * A new app: the properties a create body set (read-only ones already left out), then what the server sets, as
   * of `at`. Every other property is filled when answering (model/defaults.ts).
   */
  create(properties: Record<string, unknown>, at: string): AppRecord {
    const app: AppRecord = {
      "@odata.type": ODATA_TYPE.win32LobApp,
      roleScopeTagIds: ["0"],
      ...properties,
      id: randomUUID(),
      createdDateTime: at,
      lastModifiedDateTime: at,
      uploadState: 0,
      publishingState: "notPublished",
      isAssigned: false,
      dependentAppCount: 0,
      supersedingAppCount: 0,
      supersededAppCount: 0,
      committedContentVersion: null,
      size: 0,
    };
    this.put(app);
    return app;
  }

  /** the app, or Graph's 404 */
  require(id: string): AppRecord {
    const app = this.get(id);
    if (!app) throw notFound(`The mobile app '${id}' does not exist.`);
    return app;
  }
}

export class ContentVersionRepository extends Repository<ContentVersionRecord> {
  ofApp(appId: string): ContentVersionRecord[] {
    return this.list().filter((v) => v.appId === appId);
  }
  find(appId: string, contentVersionId: string): ContentVersionRecord | undefined {
    return this.get(`${appId}|${contentVersionId}`);
  }
  /** the app's next version: "1", "2", … */
  add(appId: string): ContentVersionRecord {
    const n = String(this.ofApp(appId).length + 1);
    const v = { id: `${appId}|${n}`, appId, contentVersionId: n };
    this.put(v);
    return v;
  }
}

export class ContentFileRepository extends Repository<FileRecord> {
  ofApp(appId: string): FileRecord[] {
    return this.list().filter((f) => f.appId === appId);
  }
  ofVersion(appId: string, contentVersionId: string): FileRecord[] {
    return this.list().filter((f) => f.appId === appId.toLowerCase() && f.contentVersionId === contentVersionId);
  }
}

export class AssignmentRepository extends Repository<AssignmentRecord> {
  /** the app's assignments as Graph returns them */
  ofApp(appId: string): StoredAssignment[] {
    return this.list()
      .filter((a) => a.appId === appId.toLowerCase())
      .map((a) => a.assignment);
  }
  find(appId: string, assignmentId: string): StoredAssignment | undefined {
    return this.get(`${appId}|${assignmentId}`)?.assignment;
  }
  add(appId: string, assignment: StoredAssignment): void {
    this.put({ id: `${appId}|${assignment.id}`, appId, assignment });
  }
  remove(appId: string, assignmentId: string): boolean {
    return this.delete(`${appId}|${assignmentId}`);
  }
  /** the whole set of the app replaced (`assign`) */
  replace(appId: string, assignments: readonly StoredAssignment[]): void {
    this.deleteWhere((a) => a.appId === appId);
    for (const a of assignments) this.add(appId, a);
  }
}

export class RelationshipRepository extends Repository<RelationshipRecord> {
  /** links from or to the app */
  touching(appId: string): RelationshipRecord[] {
    return this.list().filter((r) => r.sourceId === appId || r.targetId === appId);
  }
  /** the app's outgoing links replaced (`updateRelationships`) */
  replaceOutgoing(appId: string, next: readonly RelationshipRecord[]): void {
    this.deleteWhere((r) => r.sourceId === appId);
    for (const r of next) this.put(r);
  }
}

export class CategoryLinkRepository extends Repository<CategoryLinkRecord> {
  ofApp(appId: string): CategoryLinkRecord[] {
    return this.list().filter((l) => l.appId === appId.toLowerCase());
  }
  has(appId: string, categoryId: string): boolean {
    return this.get(`${appId}|${categoryId}`) !== undefined;
  }
  link(appId: string, categoryId: string): void {
    this.put({ id: `${appId}|${categoryId}`, appId, categoryId });
  }
  unlink(appId: string, categoryId: string): boolean {
    return this.delete(`${appId}|${categoryId}`);
  }
}

export class EnrollmentConfigurationRepository extends Repository<EnrollmentConfigurationRecord> {
  /** removes the app from every configuration's blocking list (`selectedMobileAppIds`) */
  dropApp(appId: string): void {
    const named = (x: string): boolean => x.toLowerCase() === appId;
    for (const e of this.list()) {
      const ids = e.selectedMobileAppIds;
      if (ids?.some(named)) this.put({ ...e, selectedMobileAppIds: ids.filter((x) => !named(x)) });
    }
  }
}

/** One tenant's Graph state: its repositories. */
export type TenantState = ReturnType<typeof tenantState>;

function tenantState(store: Store, tenantId: string) {
  const c = <T extends Entity>(name: string): Collection<T> => store.collection<T>(tenantId, name);
  return {
    apps: new AppRepository(c(COLLECTIONS.mobileApps)),
    contentVersions: new ContentVersionRepository(c(COLLECTIONS.contentVersions)),
    contentFiles: new ContentFileRepository(c(COLLECTIONS.contentFiles)),
    assignments: new AssignmentRepository(c(COLLECTIONS.assignments)),
    relationships: new RelationshipRepository(c(COLLECTIONS.relationships)),
    categoryLinks: new CategoryLinkRepository(c(COLLECTIONS.categoryLinks)),
    groups: new Repository<GroupRecord>(c(COLLECTIONS.groups)),
    assignmentFilters: new Repository<AssignmentFilterRecord>(c(COLLECTIONS.assignmentFilters)),
    roleScopeTags: new Repository<ScopeTagRecord>(c(COLLECTIONS.roleScopeTags)),
    enrollmentConfigurations: new EnrollmentConfigurationRepository(c(COLLECTIONS.enrollmentConfigurations)),
    managedDevices: new Repository<ManagedDeviceRecord>(c(COLLECTIONS.managedDevices)),
    detectedApps: new Repository<DetectedAppRecord>(c(COLLECTIONS.detectedApps)),
    exportJobs: new Repository<ExportJobRecord>(c(COLLECTIONS.exportJobs)),
  } as const;
}

/** Every tenant's Graph state, over one store. */
export class GraphState {
  constructor(private readonly store: Store) {}

  tenant(tenantId: string): TenantState {
    return tenantState(this.store, tenantId);
  }

  /** true when nothing is stored (a fresh store gets the seed) */
  isEmpty(): boolean {
    return this.store.isEmpty();
  }

  /** every stored entity by tenant and collection (the admin API's state) */
  dump(): Record<string, Record<string, Entity[]>> {
    return this.store.dump();
  }

  clear(): void {
    this.store.clear();
  }
}
