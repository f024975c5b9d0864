/**
 * Enrollment configurations (`deviceManagement/deviceEnrollmentConfigurations`): read as seeded, and the
 * Enrollment Status Page's PATCH, which sets its blocking apps. Shapes: docs/reference/graph-conventions.md §6.4.
 */
import { ODATA_TYPE } from "../../../src/core/wire/graph.js";
import { badRequest, modelValidation, notFound } from "../errors.js";
import { SERVICE_CONFIG_READ, SERVICE_CONFIG_WRITE } from "../permissions.js";
import { route } from "../routing.js";
import type { Route } from "../routing.js";
import type { GraphRequest, GraphResponse } from "../types.js";
import { Handler } from "./handler.js";
import { isObject } from "./mobile-apps.js";

const BASE = "/deviceManagement/deviceEnrollmentConfigurations";
const ESP_TYPE = ODATA_TYPE.espConfiguration;
/** At most this many blocking apps in one ESP (UNCONFIRMED: no source gives a number). */
export const MAX_ESP_APPS = 100;

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

export class EnrollmentHandler extends Handler {
  routes(): Route[] {
    return [
      ...this.readOnly({ path: BASE, items: (t) => t.enrollmentConfigurations, roles: SERVICE_CONFIG_READ }),
      route("PATCH", `${BASE}/{id}`, SERVICE_CONFIG_WRITE, (req, p) => this.update(req, p.id)),
    ];
  }

  private update(req: GraphRequest, id: string): GraphResponse {
    const t = this.tenant(req);
    const e = t.enrollmentConfigurations.get(id);
    if (!e) throw notFound(`Resource '${id}' does not exist.`);
    const b = req.body;
    if (!isObject(b)) throw badRequest("A JSON object body is required.");
    // §6.4: the PATCH body must carry the derived @odata.type (deviceEnrollmentConfigurations is abstract-typed).
    if (b["@odata.type"] !== e["@odata.type"]) {
      throw modelValidation(
        b["@odata.type"] === undefined
          ? "Exception has been thrown by the target of an invocation."
          : `The @odata.type '${String(b["@odata.type"])}' does not match the type of the resource, '${e["@odata.type"]}'.`,
      );
    }
    if (e["@odata.type"] !== ESP_TYPE)
      throw badRequest("The local tenant only updates Enrollment Status Page configurations.");
    const unknown = Object.keys(b).find((k) => !ESP_WRITABLE.has(k));
    if (unknown !== undefined) {
      throw modelValidation(
        `The property '${unknown}' does not exist on type 'microsoft.management.services.api.windows10EnrollmentCompletionPageConfiguration'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
      );
    }
    const ids = b["selectedMobileAppIds"];
    if (ids !== undefined) {
      if (!Array.isArray(ids) || ids.some((x) => typeof x !== "string")) {
        throw modelValidation(
          "Cannot convert the literal to the expected type 'Collection(Edm.String)' for 'selectedMobileAppIds'.",
        );
      }
      // UNCONFIRMED cap (docs/emulator.md): the docs name no limit; 100 keeps lists sane.
      if (ids.length > MAX_ESP_APPS)
        throw badRequest(
          `selectedMobileAppIds can name at most ${MAX_ESP_APPS} apps; this request names ${ids.length}.`,
        );
      const missing = (ids as string[]).filter((appId) => !t.apps.get(appId));
      if (missing.length > 0)
        throw badRequest(`selectedMobileAppIds names apps that do not exist: ${missing.join(", ")}.`);
    }
    t.enrollmentConfigurations.put({
      ...e,
      ...b,
      id: e.id,
      lastModifiedDateTime: this.now(),
      version: Number(e.version ?? 1) + 1,
    });
    return { status: 204 };
  }
}
