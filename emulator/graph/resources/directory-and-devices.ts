/**
 * Seeded, mostly read-only resources: groups, assignment filters, scope tags, enrollment configurations (ESP, with
 * its PATCH), managed devices and detected apps (explicit or generated). Shapes: entra-auth-and-graph.md §6.4.
 */
import { ODATA_TYPE } from "../../../src/core/wire/graph.js";
import type { Seed } from "../../seed.js";
import type { Entity } from "../../store.js";
import { badRequest, GraphError, notFound } from "../errors.js";
import { arraySource, entityResponse, listPage } from "../odata.js";
import type { Source } from "../odata.js";
import {
  CONFIG_READ,
  DEVICES_READ,
  GROUPS_READ,
  RBAC_READ,
  SERVICE_CONFIG_READ,
  SERVICE_CONFIG_WRITE,
} from "../permissions.js";
import type { GraphRequest, Route } from "../types.js";
import { C, nowIso } from "./context.js";
import type { ResourceContext } from "./context.js";
import { concatSources } from "./inventory.js";

type Json = Entity & Record<string, unknown>;

const ESP_TYPE = ODATA_TYPE.espConfiguration;
/** At most this many blocking apps in one ESP (UNCONFIRMED: no source gives a number). */
export const MAX_ESP_APPS = 100;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Writable ESP properties (§6.4 PATCH row). */
const ESP_WRITABLE = new Set([
  "@odata.type",
  "displayName",
  "description",
  "showInstallationProgress",
  "blockDeviceSetupRetryByUser",
  "allowDeviceResetOnInstallFailure",
  "allowLogCollectionOnInstallFailure",
  "customErrorMessage",
  "installProgressTimeoutInMinutes",
  "allowDeviceUseOnInstallFailure",
  "selectedMobileAppIds",
  "trackInstallProgressForAutopilotOnly",
  "disableUserStatusTrackingAfterFirstUser",
  "allowNonBlockingAppInstallation",
  "installQualityUpdates",
  "priority",
  "roleScopeTagIds",
]);

/** Puts the seed's entities into the store for `tenantId` (the seed's first tenant). */
export function loadSeedEntities(ctx: ResourceContext, seed: Seed, tenantId: string): void {
  const at = nowIso(ctx.clock);
  const put = (name: string, e: Json): void => ctx.store.collection<Json>(tenantId, name).put(e);
  for (const g of seed.groups) {
    put(C.groups, {
      "@odata.type": "#microsoft.graph.group",
      description: null,
      mailEnabled: false,
      mailNickname: g.displayName.replace(/[^A-Za-z0-9]/g, "").toLowerCase() || "group",
      securityEnabled: true,
      groupTypes: [],
      createdDateTime: at,
      ...g,
    });
  }
  for (const f of seed.assignmentFilters) {
    put(C.assignmentFilters, {
      "@odata.type": "#microsoft.graph.deviceAndAppManagementAssignmentFilter",
      description: "",
      roleScopeTags: ["0"],
      payloads: [],
      assignmentFilterManagementType: "devices",
      createdDateTime: at,
      lastModifiedDateTime: at,
      ...f,
    });
  }
  for (const t of seed.roleScopeTags)
    put(C.roleScopeTags, { "@odata.type": "#microsoft.graph.roleScopeTag", description: "", ...t });
  for (const p of seed.espProfiles) {
    put(C.enrollmentConfigurations, {
      "@odata.type": ESP_TYPE,
      description: "",
      createdDateTime: at,
      lastModifiedDateTime: at,
      version: 1,
      roleScopeTagIds: ["0"],
      deviceEnrollmentConfigurationType: "windows10EnrollmentCompletionPageConfiguration",
      showInstallationProgress: true,
      blockDeviceSetupRetryByUser: false,
      allowDeviceResetOnInstallFailure: false,
      allowLogCollectionOnInstallFailure: false,
      customErrorMessage: "",
      installProgressTimeoutInMinutes: 60,
      allowDeviceUseOnInstallFailure: false,
      trackInstallProgressForAutopilotOnly: false,
      disableUserStatusTrackingAfterFirstUser: false,
      allowNonBlockingAppInstallation: false,
      installQualityUpdates: false,
      ...p,
    });
  }
  // A non-ESP configuration, so clients must filter by @odata.type as §6.4 says.
  put(C.enrollmentConfigurations, {
    "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
    id: `${tenantId}_DefaultLimit`,
    displayName: "All users and all devices",
    description:
      "This is the default Device Limit Restriction applied with the lowest priority to all users regardless of group membership.",
    priority: 0,
    createdDateTime: at,
    lastModifiedDateTime: at,
    version: 1,
    roleScopeTagIds: ["0"],
    deviceEnrollmentConfigurationType: "limit",
    limit: 15,
  });
  for (const d of seed.managedDevices)
    put(C.managedDevices, { operatingSystem: "Windows", complianceState: "compliant", managementAgent: "mdm", ...d });
  if (Array.isArray(seed.detectedApps)) {
    for (const a of seed.detectedApps) {
      put(C.detectedApps, { sizeInByte: 0, platform: "windows", publisher: "", ...a, deviceCount: a.deviceIds.length });
    }
  }
}

function stripInternal(e: Json): Json {
  const { deviceIds: _d, ...rest } = e;
  return rest as Json;
}

export function directoryAndDeviceRoutes(ctx: ResourceContext): Route[] {
  const pageSize = (d: number): number => ctx.pageSize ?? d;
  const col = (req: GraphRequest, name: string) => ctx.store.collection<Json>(req.caller.tenantId, name);

  const readOnly = (
    path: string,
    name: string,
    roles: readonly string[],
    defaultPage: number,
    maxPage: number,
    forbidden: "intune" | "directory" = "intune",
  ): Route[] => [
    {
      method: "GET",
      pattern: path,
      roles,
      forbidden,
      handler: (req) =>
        listPage(req, arraySource(col(req, name).list()), {
          path,
          defaultPageSize: pageSize(defaultPage),
          maxPageSize: maxPage,
        }),
    },
    {
      method: "GET",
      pattern: `${path}/{id}`,
      roles,
      forbidden,
      handler: (req, p) => {
        const id = p["id"] ?? "";
        if (forbidden === "directory") {
          // The directory's own error codes: a key that is not a GUID is a 400, a missing object a 404
          // `Request_ResourceNotFound` (Microsoft Graph directory behaviour; not quoted by the shared references).
          if (!GUID.test(id)) throw new GraphError(400, "Request_BadRequest", `Invalid object identifier '${id}'.`);
          const g = col(req, name).get(id);
          if (!g)
            throw new GraphError(
              404,
              "Request_ResourceNotFound",
              `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
            );
          return entityResponse(req, g, path);
        }
        const e = col(req, name).get(id);
        if (!e)
          throw notFound(
            `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
          );
        return entityResponse(req, e, path);
      },
    },
  ];

  const devicesSource = (req: GraphRequest): Source<Json> => {
    const explicit = arraySource(col(req, C.managedDevices).list());
    const inv = ctx.inventory(req.caller.tenantId);
    return inv ? concatSources<Json>(explicit, inv.devices() as Source<Json>) : explicit;
  };
  const detectedSource = (req: GraphRequest): Source<Json> => {
    const list = col(req, C.detectedApps).list().map(stripInternal);
    const inv = ctx.inventory(req.caller.tenantId);
    return inv ? concatSources<Json>(arraySource(list), inv.detectedApps() as Source<Json>) : arraySource(list);
  };

  return [
    // Groups: default page 100, $top up to 999 (§6.2, §6.4); directory-style 403.
    ...readOnly("/groups", C.groups, GROUPS_READ, 100, 999, "directory"),
    ...readOnly("/deviceManagement/assignmentFilters", C.assignmentFilters, CONFIG_READ, 100, 1000),
    ...readOnly("/deviceManagement/roleScopeTags", C.roleScopeTags, RBAC_READ, 100, 1000),
    {
      // intune-win32-protocol.md §2.1: S1 reads the tags usable on apps with this function.
      method: "GET",
      pattern: "/deviceManagement/getRoleScopeTagsByResource(resource='MobileApps')",
      roles: RBAC_READ,
      forbidden: "intune",
      versions: ["beta"],
      handler: (req) =>
        listPage(req, arraySource(col(req, C.roleScopeTags).list()), {
          path: "/deviceManagement/getRoleScopeTagsByResource(resource='MobileApps')",
          defaultPageSize: pageSize(100),
          maxPageSize: 1000,
        }),
    },
    ...readOnly(
      "/deviceManagement/deviceEnrollmentConfigurations",
      C.enrollmentConfigurations,
      SERVICE_CONFIG_READ,
      100,
      1000,
    ),
    {
      method: "PATCH",
      pattern: "/deviceManagement/deviceEnrollmentConfigurations/{id}",
      roles: SERVICE_CONFIG_WRITE,
      forbidden: "intune",
      handler: (req, p) => {
        const c = col(req, C.enrollmentConfigurations);
        const e = c.get(p["id"] ?? "");
        if (!e) throw notFound(`Resource '${p["id"]}' does not exist.`);
        const body = req.body;
        if (typeof body !== "object" || body === null || Array.isArray(body))
          throw badRequest("A JSON object body is required.");
        const b = body as Record<string, unknown>;
        // §6.4: the PATCH body must carry the derived @odata.type (deviceEnrollmentConfigurations is abstract-typed).
        if (b["@odata.type"] !== e["@odata.type"]) {
          throw new GraphError(
            400,
            "ModelValidationFailure",
            b["@odata.type"] === undefined
              ? "Exception has been thrown by the target of an invocation."
              : `The @odata.type '${String(b["@odata.type"])}' does not match the type of the resource, '${String(e["@odata.type"])}'.`,
          );
        }
        if (e["@odata.type"] !== ESP_TYPE)
          throw badRequest("The local tenant only updates Enrollment Status Page configurations.");
        for (const k of Object.keys(b)) {
          if (!ESP_WRITABLE.has(k)) {
            throw new GraphError(
              400,
              "ModelValidationFailure",
              `The property '${k}' does not exist on type 'microsoft.management.services.api.windows10EnrollmentCompletionPageConfiguration'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
            );
          }
        }
        const ids = b["selectedMobileAppIds"];
        if (ids !== undefined) {
          if (!Array.isArray(ids) || ids.some((x) => typeof x !== "string")) {
            throw new GraphError(
              400,
              "ModelValidationFailure",
              "Cannot convert the literal to the expected type 'Collection(Edm.String)' for 'selectedMobileAppIds'.",
            );
          }
          // UNCONFIRMED cap (docs/emulator.md): the docs name no limit; 100 keeps lists sane.
          if (ids.length > MAX_ESP_APPS)
            throw badRequest(
              `selectedMobileAppIds can name at most ${MAX_ESP_APPS} apps; this request names ${ids.length}.`,
            );
          const apps = col(req, C.mobileApps);
          const missing = (ids as string[]).filter((id) => !apps.get(id));
          if (missing.length > 0)
            throw badRequest(`selectedMobileAppIds names apps that do not exist: ${missing.join(", ")}.`);
        }
        c.put({
          ...e,
          ...b,
          id: e.id,
          lastModifiedDateTime: nowIso(ctx.clock),
          version: Number(e["version"] ?? 1) + 1,
        });
        return { status: 204 };
      },
    },
    // Managed devices: pages of 1000 (§6.2 [S29v-3p]); v1.0 and beta.
    {
      method: "GET",
      pattern: "/deviceManagement/managedDevices",
      roles: DEVICES_READ,
      forbidden: "intune",
      handler: (req) =>
        listPage(req, devicesSource(req), {
          path: "/deviceManagement/managedDevices",
          defaultPageSize: pageSize(1000),
          maxPageSize: 1000,
        }),
    },
    {
      method: "GET",
      pattern: "/deviceManagement/managedDevices/{id}",
      roles: DEVICES_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const id = p["id"] ?? "";
        const inv = ctx.inventory(req.caller.tenantId);
        const i = inv?.deviceIndex(id);
        const e = col(req, C.managedDevices).get(id) ?? (inv && i !== undefined ? (inv.device(i) as Json) : undefined);
        if (!e) throw notFound(`Resource '${id}' does not exist.`);
        return entityResponse(req, e, "/deviceManagement/managedDevices");
      },
    },
    {
      method: "GET",
      pattern: "/deviceManagement/detectedApps",
      roles: DEVICES_READ,
      forbidden: "intune",
      handler: (req) =>
        listPage(req, detectedSource(req), {
          path: "/deviceManagement/detectedApps",
          defaultPageSize: pageSize(1000),
          maxPageSize: 1000,
        }),
    },
    {
      method: "GET",
      pattern: "/deviceManagement/detectedApps/{id}",
      roles: DEVICES_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const id = p["id"] ?? "";
        const inv = ctx.inventory(req.caller.tenantId);
        const i = inv?.detectedAppIndex(id);
        const explicit = col(req, C.detectedApps).get(id);
        const e = explicit
          ? stripInternal(explicit)
          : inv && i !== undefined
            ? (inv.detectedApp(i) as Json)
            : undefined;
        if (!e) throw notFound(`Resource '${id}' does not exist.`);
        return entityResponse(req, e, "/deviceManagement/detectedApps");
      },
    },
    {
      method: "GET",
      pattern: "/deviceManagement/detectedApps/{id}/managedDevices",
      roles: DEVICES_READ,
      forbidden: "intune",
      handler: (req, p) => {
        const id = p["id"] ?? "";
        const path = `/deviceManagement/detectedApps/${id}/managedDevices`;
        const explicit = col(req, C.detectedApps).get(id);
        if (explicit) {
          const devices = col(req, C.managedDevices);
          const ids = (explicit["deviceIds"] as string[] | undefined) ?? [];
          const rows = ids.map((d) => devices.get(d)).filter((d): d is Json => d !== undefined);
          return listPage(req, arraySource(rows), { path, defaultPageSize: pageSize(1000), maxPageSize: 1000 });
        }
        const inv = ctx.inventory(req.caller.tenantId);
        const i = inv?.detectedAppIndex(id);
        if (!inv || i === undefined) throw notFound(`Resource '${id}' does not exist.`);
        return listPage(req, inv.devicesOfApp(i) as Source<Json>, {
          path,
          defaultPageSize: pageSize(1000),
          maxPageSize: 1000,
        });
      },
    },
  ];
}
