import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Client } from "@microsoft/microsoft-graph-client";
import { testSeed } from "../../testing/seed.js";
import { startLocalTenant } from "../../server.js";
import type { LocalTenant } from "../../server.js";
import { CallLog, httpsRequest } from "../../testing/clients.js";
import { graphClient, graphError } from "../../testing/graph-client.js";
import { win32AppBody } from "../../testing/publish.js";
import { MAX_ESP_APPS } from "./enrollment.js";

const PILOT = "0a000000-0000-4000-8000-00000000000a";
const OBRIEN = "0a000000-0000-4000-8000-0000000000b1";
const TENANT = "46464646-2222-4333-8444-555555555555";
const DEFAULT_ESP = `${TENANT}_DefaultWindows10EnrollmentCompletionPageConfiguration`;
const ESP_TYPE = "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration";

describe("groups, ESP and scope tags as the publisher reads them (Graph JS client and raw HTTPS)", () => {
  let lt: LocalTenant;
  const log = new CallLog();
  let beta: Client;
  let v1: Client;

  before(async () => {
    lt = await startLocalTenant({
      storage: false,
      seed: testSeed({
        tenantId: TENANT,
        roles: [
          "DeviceManagementApps.ReadWrite.All",
          "DeviceManagementServiceConfig.ReadWrite.All",
          "DeviceManagementRBAC.Read.All",
          "GroupMember.Read.All",
        ],
        secret: "s",
        groups: [
          { id: PILOT, displayName: "Pilot devices" },
          { id: "0a000000-0000-4000-8000-00000000000b", displayName: "Pilot users" },
          { id: OBRIEN, displayName: "O'Brien's devices" },
          { id: "0a000000-0000-4000-8000-00000000000c", displayName: "All Windows devices" },
        ],
        espProfiles: [{ id: DEFAULT_ESP, displayName: "All users and all devices", priority: 0 }],
      }),
    });
    const getToken = () => lt.admin.issueToken();
    beta = graphClient({ origin: lt.authorityHost, caPem: lt.caCertPem, log, getToken });
    v1 = graphClient({ origin: lt.authorityHost, caPem: lt.caCertPem, log, getToken, version: "v1.0" });
  });
  after(() => lt.close());

  const raw = (path: string, token = lt.admin.issueToken()) =>
    httpsRequest(lt.caCertPem, log, "GET", `${lt.authorityHost}${path}`, { authorization: `Bearer ${token}` });

  describe("groups by name (v1.0, as the client looks them up)", () => {
    type Groups = { value: Record<string, unknown>[] };

    it("$filter=displayName eq '…' with $select=id,displayName", async () => {
      const r = (await v1
        .api("/groups")
        .filter("displayName eq 'Pilot devices'")
        .select("id,displayName")
        .get()) as Groups;
      assert.deepEqual(r.value, [{ "@odata.type": "#microsoft.graph.group", id: PILOT, displayName: "Pilot devices" }]);
      // The same request as raw query text, exactly as the client will send it.
      const q = `$filter=${encodeURIComponent("displayName eq 'Pilot devices'")}&$select=id,displayName`;
      const res = await raw(`/v1.0/groups?${q}`);
      assert.equal(res.status, 200, res.text);
      const body = JSON.parse(res.text) as Groups & { "@odata.context": string };
      assert.deepEqual(
        body.value.map((g) => g["id"]),
        [PILOT],
      );
      assert.match(body["@odata.context"], /\/v1\.0\/\$metadata#groups$/);
    });

    it("a name with an apostrophe escaped as ''", async () => {
      const r = (await v1
        .api("/groups")
        .filter("displayName eq 'O''Brien''s devices'")
        .select("id,displayName")
        .get()) as Groups;
      assert.deepEqual(
        r.value.map((g) => g["id"]),
        [OBRIEN],
      );
      const s = (await v1
        .api("/groups")
        .filter("startswith(displayName,'O''Bri')")
        .select("id,displayName")
        .get()) as Groups;
      assert.deepEqual(
        s.value.map((g) => g["displayName"]),
        ["O'Brien's devices"],
      );
      // A lone quote inside the literal ends it early: 400.
      const bad = await raw(`/v1.0/groups?$filter=${encodeURIComponent("displayName eq 'O'Brien'")}`);
      assert.equal(bad.status, 400);
    });

    it("a missing name gives an empty page; startswith finds the near misses", async () => {
      const none = (await v1.api("/groups").filter("displayName eq 'Pil'").select("id,displayName").get()) as Groups;
      assert.deepEqual(none.value, []);
      const near = (await v1
        .api("/groups")
        .filter("startswith(displayName,'Pil')")
        .select("id,displayName")
        .get()) as Groups;
      assert.deepEqual(near.value.map((g) => g["displayName"]).sort(), ["Pilot devices", "Pilot users"]);
    });

    it("$search on displayName: word-prefix matches anywhere, ConsistencyLevel: eventual required", async () => {
      const names = async (search: string): Promise<string[]> => {
        const r = (await v1
          .api("/groups")
          .header("ConsistencyLevel", "eventual")
          .search(search)
          .select("id,displayName")
          .get()) as Groups;
        return r.value.map((g) => String(g["displayName"])).sort();
      };
      assert.deepEqual(await names('"displayName:pilot"'), ["Pilot devices", "Pilot users"]);
      // A word anywhere, by its start; a term of several words needs each; OR joins clauses.
      assert.deepEqual(await names('"displayName:dev"'), ["All Windows devices", "O'Brien's devices", "Pilot devices"]);
      assert.deepEqual(await names('"displayName:brien dev"'), ["O'Brien's devices"]);
      assert.deepEqual(await names('"displayName:win" OR "displayName:user"'), ["All Windows devices", "Pilot users"]);
      assert.deepEqual(await names('"displayName:ilot"'), [], "inside a word is no match");
      const q = `$search=${encodeURIComponent('"displayName:pilot"')}`;
      const bare = await raw(`/v1.0/groups?${q}`);
      assert.equal(bare.status, 400);
      const body = JSON.parse(bare.text) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "Request_UnsupportedQuery");
      assert.match(body.error.message, /special request header: 'ConsistencyLevel: eventual'/);
      const token = lt.admin.issueToken();
      const bad = await httpsRequest(lt.caCertPem, log, "GET", `${lt.authorityHost}/v1.0/groups?$search=pilot`, {
        authorization: `Bearer ${token}`,
        consistencylevel: "eventual",
      });
      assert.equal(bad.status, 400, "an unquoted value is a syntax error");
    });

    it("GET /groups/{id} with $select; 404 Request_ResourceNotFound when missing; 400 for a non-GUID id", async () => {
      const g = (await v1.api(`/groups/${PILOT}`).select("id,displayName").get()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(g).sort(), ["@odata.context", "@odata.type", "displayName", "id"]);
      assert.equal(g["displayName"], "Pilot devices");
      const missing = "0a000000-0000-4000-8000-0000000000ff";
      const e = await graphError(v1.api(`/groups/${missing}`).select("id,displayName").get());
      assert.equal(e.statusCode, 404);
      assert.equal(e.code, "Request_ResourceNotFound");
      assert.equal(
        e.message,
        `Resource '${missing}' does not exist or one of its queried reference-property objects are not present.`,
      );
      const r = await raw(`/v1.0/groups/${missing}`);
      const body = JSON.parse(r.text) as { error: { code: string; innerError: Record<string, string> } };
      assert.equal(body.error.code, "Request_ResourceNotFound");
      assert.equal(body.error.innerError["request-id"], r.headers["request-id"]);
      const notGuid = await graphError(v1.api("/groups/Pilot%20devices").get());
      assert.equal(notGuid.statusCode, 400);
      assert.equal(notGuid.code, "Request_BadRequest");
      assert.match(notGuid.message, /^Invalid object identifier 'Pilot devices'\.$/);
    });
  });

  describe("ESP (deviceEnrollmentConfigurations)", () => {
    const esp = `/deviceManagement/deviceEnrollmentConfigurations/${DEFAULT_ESP}`;

    it("GET by id has the §6.4 @odata.context and the default ESP's id, priority and type", async () => {
      const r = await raw(`/beta${esp}`);
      assert.equal(r.status, 200, r.text);
      const body = JSON.parse(r.text) as Record<string, unknown>;
      assert.equal(
        body["@odata.context"],
        `${lt.graphBaseUrl}/$metadata#deviceManagement/deviceEnrollmentConfigurations/$entity`,
      );
      assert.equal(body["@odata.type"], ESP_TYPE);
      assert.equal(body["id"], DEFAULT_ESP);
      assert.equal(body["priority"], 0);
      assert.equal(body["deviceEnrollmentConfigurationType"], "windows10EnrollmentCompletionPageConfiguration");
      assert.deepEqual(body["selectedMobileAppIds"], []);
      const missing = await graphError(beta.api("/deviceManagement/deviceEnrollmentConfigurations/nope").get());
      assert.equal(missing.statusCode, 404);
    });

    it(`selectedMobileAppIds: existing apps only, at most ${MAX_ESP_APPS} (UNCONFIRMED cap)`, async () => {
      const app = (await beta.api("/deviceAppManagement/mobileApps").post(win32AppBody("ESP app"))) as { id: string };
      await beta.api(esp).patch({ "@odata.type": ESP_TYPE, selectedMobileAppIds: [app.id] });
      assert.deepEqual(((await beta.api(esp).get()) as { selectedMobileAppIds: string[] }).selectedMobileAppIds, [
        app.id,
      ]);
      const unknown = await graphError(
        beta
          .api(esp)
          .patch({ "@odata.type": ESP_TYPE, selectedMobileAppIds: [app.id, "4c1f4a4e-0000-4000-8000-000000000000"] }),
      );
      assert.equal(unknown.statusCode, 400);
      assert.match(unknown.message, /do not exist: 4c1f4a4e-0000-4000-8000-000000000000/);
      const tooMany = await graphError(
        beta.api(esp).patch({
          "@odata.type": ESP_TYPE,
          selectedMobileAppIds: Array.from({ length: MAX_ESP_APPS + 1 }, () => app.id),
        }),
      );
      assert.equal(tooMany.statusCode, 400);
      assert.equal(tooMany.code, "BadRequest");
      assert.equal(
        tooMany.message,
        `selectedMobileAppIds can name at most ${MAX_ESP_APPS} apps; this request names ${MAX_ESP_APPS + 1}.`,
      );
      const notStrings = await graphError(beta.api(esp).patch({ "@odata.type": ESP_TYPE, selectedMobileAppIds: [1] }));
      assert.equal(notStrings.code, "ModelValidationFailure");
    });
  });

  describe("scope tags", () => {
    it("roleScopeTags without an RBAC or configuration permission: 403 with Intune's JSON-in-message body", async () => {
      const r = await raw(
        "/beta/deviceManagement/roleScopeTags",
        lt.admin.issueToken({ roles: ["DeviceManagementApps.ReadWrite.All", "GroupMember.Read.All"] }),
      );
      assert.equal(r.status, 403);
      const body = JSON.parse(r.text) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "Forbidden");
      const inner = JSON.parse(body.error.message) as { _version: number; Message: string };
      assert.equal(inner._version, 3);
      assert.match(
        inner.Message,
        /^Application is not authorized to perform this operation\. Application must have one of the following scopes: DeviceManagementRBAC\.Read\.All, DeviceManagementRBAC\.ReadWrite\.All, DeviceManagementConfiguration\.Read\.All, DeviceManagementConfiguration\.ReadWrite\.All - Operation ID/,
      );
      assert.match(body.error.message, /\r\n/);
      // docs/reference/graph-conventions.md §6.4: DeviceManagementConfiguration.Read.All alone is enough.
      const config = await raw(
        "/beta/deviceManagement/roleScopeTags",
        lt.admin.issueToken({ roles: ["DeviceManagementConfiguration.Read.All"] }),
      );
      assert.equal(config.status, 200);
      const ok = (await beta.api("/deviceManagement/roleScopeTags").get()) as { value: { id: string }[] };
      assert.deepEqual(
        ok.value.map((t) => t.id),
        ["0"],
      );
    });
  });

  it("never called any host but 127.0.0.1", () => {
    assert.deepEqual(
      log.calls.filter((x) => new URL(x.url).hostname !== "127.0.0.1"),
      [],
    );
  });
});
