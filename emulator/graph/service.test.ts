// Sections (§) cited here are those of docs/reference/graph-win32-upload.md.
import assert from "node:assert/strict";
import { GeneratedInventory } from "./inventory.js";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ConfidentialClientApplication } from "@azure/msal-node";
import {
  BatchRequestContent,
  BatchResponseContent,
  GraphError as ClientGraphError,
  PageIterator,
} from "@microsoft/microsoft-graph-client";
import type { PageCollection } from "@microsoft/microsoft-graph-client";
import { signJwtRs256 } from "../jwt.js";
import { startLocalTenant } from "../server.js";
import type { LocalTenant } from "../server.js";
import { CallLog, httpsRequest, TrustingNetworkClient } from "../testing/clients.js";
import { graphClient } from "../testing/graph-client.js";
import { canonicalSegments } from "./service.js";

const GROUP_A = "0a000000-0000-4000-8000-00000000000a";
const GROUP_B = "0b000000-0000-4000-8000-00000000000b";

describe("Graph front door (Graph JS client and raw HTTPS)", () => {
  let lt: LocalTenant;
  const log = new CallLog();

  before(async () => {
    lt = await startLocalTenant({
      storage: false,
      pageSize: 7,
      seed: {
        tenants: [{ id: "22222222-2222-4333-8444-555555555555", domains: ["contoso.onmicrosoft.com"] }],
        appRegistrations: [
          {
            clientId: "aaaaaaaa-0000-4000-8000-000000000001",
            displayName: "publisher",
            secrets: [{ value: "secret-value" }],
            roles: [
              "DeviceManagementApps.ReadWrite.All",
              "DeviceManagementManagedDevices.Read.All",
              "GroupMember.Read.All",
              "DeviceManagementServiceConfig.ReadWrite.All",
              "DeviceManagementConfiguration.Read.All",
            ],
          },
        ],
        groups: [
          { id: GROUP_A, displayName: "Pilot devices" },
          { id: GROUP_B, displayName: "Pilot users" },
          ...Array.from({ length: 10 }, (_, i) => ({
            id: `0c000000-0000-4000-8000-0000000000${String(i).padStart(2, "0")}`,
            displayName: `Group ${i}`,
          })),
        ],
        detectedApps: { devices: 50, appsPerDevice: 3, seed: 7 },
        espProfiles: [{ id: "esp-1", displayName: "Kiosk ESP", priority: 1 }],
      },
    });
  });
  after(() => lt.close());

  const client = (token?: string) =>
    graphClient({ origin: lt.authorityHost, caPem: lt.caCertPem, log, getToken: () => token ?? lt.admin.issueToken() });
  const raw = (
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    httpsRequest(
      lt.caCertPem,
      log,
      method,
      `${lt.graphBaseUrl}${path}`,
      {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body === undefined ? undefined : JSON.stringify(body),
    );

  it("accepts a token from msal-node against the local token endpoint, end to end", async () => {
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: lt.clientId,
        clientSecret: lt.clientSecret ?? "",
        authority: lt.authority,
        knownAuthorities: [lt.host],
        authorityMetadata: lt.authorityMetadata,
      },
      system: { networkClient: new TrustingNetworkClient(lt.caCertPem, log) },
    });
    const r = await cca.acquireTokenByClientCredential({ scopes: [`${lt.tokenAudience}/.default`] });
    const groups = (await client(r?.accessToken).api("/groups").filter("displayName eq 'Pilot devices'").get()) as {
      value: { id: string }[];
    };
    assert.deepEqual(
      groups.value.map((g) => g.id),
      [GROUP_A],
    );
  });

  it("a deeply nested $filter is a 400 with Graph's error shape, not a 500", async () => {
    const filter = `${"(".repeat(3000)}displayName eq 'x'${")".repeat(3000)}`;
    const r = await raw("GET", `/groups?$filter=${encodeURIComponent(filter)}`, lt.admin.issueToken());
    assert.equal(r.status, 400);
    const body = JSON.parse(r.text) as { error: { code: string; message: string; innerError: Record<string, string> } };
    assert.equal(body.error.code, "BadRequest");
    assert.match(body.error.message, /recursion limit has been exceeded/);
    assert.ok(body.error.innerError["request-id"]);
  });

  describe("401 InvalidAuthenticationToken", () => {
    const expect401 = async (token: string | undefined, message: RegExp) => {
      const r = await raw("GET", "/groups", token);
      assert.equal(r.status, 401);
      const body = JSON.parse(r.text) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "InvalidAuthenticationToken");
      assert.match(body.error.message, message);
      assert.match(r.headers["www-authenticate"] ?? "", /^Bearer realm=""/);
    };
    it("without a token", () => expect401(undefined, /Access token is empty/));
    it("for a malformed token", () => expect401("not-a-jwt", /CompactToken parsing failed/));
    it("for an expired token", () => expect401(lt.admin.issueToken({ lifetimeSeconds: -5 }), /the token is expired/));
    it("for a wrong audience", () =>
      expect401(lt.admin.issueToken({ audience: "https://graph.microsoft.us" }), /Invalid audience/));
    it("for an unknown tenant", () =>
      expect401(lt.admin.issueToken({ tenantId: "33333333-2222-4333-8444-555555555555" }), /Invalid tenant/));
    it("for a token from another issuer, or naming another tenant than its own", async () => {
      const tid = lt.tenantId;
      const other = "33333333-2222-4333-8444-555555555555";
      for (const issuer of [
        `https://sts.example.com/${tid}/`,
        `https://sts.windows.net/${other}/`,
        `https://login.microsoftonline.com/${other}/v2.0`,
        "",
      ])
        await expect401(lt.admin.issueToken({ issuer }), /Access token validation failure\. Invalid issuer\./);
      // The tenant's own v1 and v2 issuers are Entra ID's: accepted (GUID case aside).
      for (const issuer of [
        `https://sts.windows.net/${tid.toUpperCase()}/`,
        `https://login.microsoftonline.com/${tid}/v2.0`,
      ])
        assert.equal((await raw("GET", "/groups", lt.admin.issueToken({ issuer }))).status, 200, issuer);
    });
    it("for a token signed by another key", () => {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const good = lt.admin.issueToken().split(".");
      const header = JSON.parse(Buffer.from(good[0] ?? "", "base64url").toString()) as Record<string, unknown>;
      const payload = JSON.parse(Buffer.from(good[1] ?? "", "base64url").toString()) as Record<string, unknown>;
      return expect401(signJwtRs256(header, payload, privateKey), /Invalid signature/);
    });
  });

  it("403 with Intune's JSON-in-message body when the role is missing (mobileApps)", async () => {
    const r = await raw(
      "GET",
      "/deviceAppManagement/mobileApps",
      lt.admin.issueToken({ roles: ["GroupMember.Read.All"] }),
    );
    assert.equal(r.status, 403);
    const body = JSON.parse(r.text) as { error: { code: string; message: string; innerError: Record<string, string> } };
    assert.equal(body.error.code, "Forbidden");
    const inner = JSON.parse(body.error.message) as { _version: number; Message: string };
    assert.equal(inner._version, 3);
    assert.match(
      inner.Message,
      /^Application is not authorized to perform this operation\. Application must have one of the following scopes: DeviceManagementApps\.Read\.All, DeviceManagementApps\.ReadWrite\.All - Operation ID/,
    );
    assert.match(body.error.message, /\r\n/);
    assert.equal(body.error.innerError["request-id"], r.headers["request-id"]);
  });

  it("403 Authorization_RequestDenied for directory resources without a group permission", async () => {
    const r = await raw("GET", "/groups", lt.admin.issueToken({ roles: [] }));
    assert.equal(r.status, 403);
    assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, "Authorization_RequestDenied");
  });

  it("501 naming an unknown route, with request-id, echoed client-request-id and Date", async () => {
    const r = await raw("GET", "/deviceManagement/somethingElse", lt.admin.issueToken(), undefined, {
      "client-request-id": "c0ffee00-0000-4000-8000-000000000000",
    });
    assert.equal(r.status, 501);
    const body = JSON.parse(r.text) as { error: { code: string; message: string; innerError: Record<string, string> } };
    assert.equal(body.error.code, "NotImplemented");
    assert.match(body.error.message, /GET \/beta\/deviceManagement\/somethingElse/);
    assert.equal(r.headers["client-request-id"], "c0ffee00-0000-4000-8000-000000000000");
    assert.equal(body.error.innerError["client-request-id"], "c0ffee00-0000-4000-8000-000000000000");
    assert.match(r.headers["request-id"] ?? "", /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(r.headers["date"] ?? "")));
  });

  it("400 for contentVersions without the win32LobApp cast (protocol §2.0)", async () => {
    const r = await raw(
      "POST",
      "/deviceAppManagement/mobileApps/8a1d1c9e-0000-4000-8000-000000000000/contentVersions",
      lt.admin.issueToken(),
      {},
    );
    assert.equal(r.status, 400);
    assert.match(r.text, /Resource not found for the segment 'contentVersions'/);
  });

  describe("OData", () => {
    it("pages groups with absolute nextLinks that the Graph client's PageIterator follows", async () => {
      const c = client();
      const first = (await c.api("/groups").get()) as PageCollection;
      assert.equal(first.value.length, 7);
      assert.match(
        first["@odata.nextLink"] ?? "",
        new RegExp(`^${lt.graphBaseUrl.replace(/\./g, "\\.")}/groups\\?\\$skiptoken=`),
      );
      const names: string[] = [];
      await new PageIterator(c, first, (g: { displayName: string }) => {
        names.push(g.displayName);
        return true;
      }).iterate();
      assert.equal(names.length, 12);
      assert.equal(new Set(names).size, 12);
    });

    it("$top, $select, $count and $filter (eq, startswith, and, or, not)", async () => {
      const c = client();
      const top = (await c.api("/groups").top(3).select("displayName").count(true).get()) as PageCollection & {
        "@odata.count": number;
      };
      assert.equal(top.value.length, 3);
      assert.deepEqual(Object.keys(top.value[0] as object).sort(), ["@odata.type", "displayName", "id"]);
      assert.equal(top["@odata.count"], 12);
      const f = async (expr: string) =>
        ((await c.api("/groups").filter(expr).get()) as { value: { displayName: string }[] }).value
          .map((g) => g.displayName)
          .sort();
      assert.deepEqual(await f("startswith(displayName,'pilot')"), ["Pilot devices", "Pilot users"]);
      assert.deepEqual(await f("displayName eq 'Pilot users' or displayName eq 'Group 3'"), ["Group 3", "Pilot users"]);
      assert.deepEqual(await f("startswith(displayName,'Pilot') and not (displayName eq 'Pilot users')"), [
        "Pilot devices",
      ]);
      assert.deepEqual(await f("displayName ne 'x' and id eq 0b000000-0000-4000-8000-00000000000b"), ["Pilot users"]);
    });

    it("rejects an unsupported query option and a malformed filter with 400", async () => {
      const token = lt.admin.issueToken();
      const a = await raw("GET", "/groups?$orderby=displayName", token);
      assert.equal(a.status, 400);
      assert.match(a.text, /\$orderby/);
      const b = await raw("GET", `/groups?$filter=${encodeURIComponent("displayName eq")}`, token);
      assert.equal(b.status, 400);
    });

    it("serves managedDevices and detectedApps from the generator, and devices per detected app", async () => {
      const c = client();
      const apps = (await c.api("/deviceManagement/detectedApps").count(true).get()) as PageCollection & {
        "@odata.count": number;
      };
      // 50 devices × 3 apps: one row per app + version, their device counts adding up to the 150 installs
      const inv = new GeneratedInventory({ devices: 50, appsPerDevice: 3, seed: 7 });
      assert.equal(apps["@odata.count"], inv.detectedAppCount);
      const first = apps.value[0] as { id: string; deviceCount: number };
      const byId = (await c.api(`/deviceManagement/detectedApps/${first.id}`).get()) as { id: string };
      assert.equal(byId.id, first.id);
      const devs = (await c
        .api(`/deviceManagement/detectedApps/${first.id}/managedDevices`)
        .top(100)
        .get()) as PageCollection;
      assert.equal(devs.value.length, first.deviceCount);
      const dev = devs.value[0] as { id: string; deviceName: string };
      const again = (await c.api(`/deviceManagement/managedDevices/${dev.id}`).get()) as { deviceName: string };
      assert.equal(again.deviceName, dev.deviceName);
    });
  });

  it("getRoleScopeTagsByResource(resource='MobileApps') lists the scope tags (403 without an RBAC permission)", async () => {
    const r = await raw(
      "GET",
      "/deviceManagement/getRoleScopeTagsByResource(resource='MobileApps')",
      lt.admin.issueToken({ roles: ["DeviceManagementRBAC.Read.All"] }),
    );
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      (JSON.parse(r.text) as { value: { id: string }[] }).value.map((t) => t.id),
      ["0"],
    );
    const f = await raw(
      "GET",
      "/deviceManagement/getRoleScopeTagsByResource(resource='MobileApps')",
      lt.admin.issueToken({ roles: ["GroupMember.Read.All"] }),
    );
    assert.equal(f.status, 403);
  });

  describe("$batch", () => {
    it("runs requests, honours dependsOn and answers 424 when a dependency fails", async () => {
      const c = client();
      // The client only builds parallel, serial or "same" dependency shapes, so two batches.
      const ok = new BatchRequestContent([
        { id: "1", request: new Request(`${lt.graphBaseUrl}/groups/${GROUP_A}`, { method: "GET" }) },
        { id: "2", request: new Request(`${lt.graphBaseUrl}/groups?$select=id`, { method: "GET" }), dependsOn: ["1"] },
      ]);
      const okRes = new BatchResponseContent(await c.api("/$batch").post(await ok.getContent()));
      assert.equal(okRes.getResponseById("1").status, 200);
      assert.equal(okRes.getResponseById("2").status, 200);
      assert.equal(((await okRes.getResponseById("1").json()) as { id: string }).id, GROUP_A);
      const failing = new BatchRequestContent([
        {
          id: "1",
          request: new Request(`${lt.graphBaseUrl}/groups/ffffffff-0000-4000-8000-000000000000`, { method: "GET" }),
        },
        { id: "2", request: new Request(`${lt.graphBaseUrl}/groups/${GROUP_B}`, { method: "GET" }), dependsOn: ["1"] },
        { id: "3", request: new Request(`${lt.graphBaseUrl}/groups/${GROUP_A}`, { method: "GET" }), dependsOn: ["1"] },
      ]);
      const res = new BatchResponseContent(await c.api("/$batch").post(await failing.getContent()));
      assert.equal(res.getResponseById("1").status, 404);
      assert.equal(res.getResponseById("2").status, 424);
      assert.equal(res.getResponseById("3").status, 424);
    });

    it("refuses more than 20 requests with 400", async () => {
      const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: "GET", url: "/groups" }));
      const r = await raw("POST", "/$batch", lt.admin.issueToken(), { requests });
      assert.equal(r.status, 400);
      assert.match(r.text, /maximum of 20/);
    });

    it("checks each inner request's permission separately", async () => {
      const r = await raw("POST", "/$batch", lt.admin.issueToken({ roles: ["GroupMember.Read.All"] }), {
        requests: [
          { id: "a", method: "GET", url: "/groups" },
          { id: "b", method: "GET", url: "/deviceAppManagement/mobileApps" },
        ],
      });
      assert.equal(r.status, 200);
      const statuses = (JSON.parse(r.text) as { responses: { id: string; status: number }[] }).responses
        .map((x) => `${x.id}:${x.status}`)
        .sort();
      assert.deepEqual(statuses, ["a:200", "b:403"]);
    });
  });

  describe("ESP (deviceEnrollmentConfigurations)", () => {
    it("lists mixed types and PATCHes selectedMobileAppIds only with @odata.type", async () => {
      const c = client();
      const list = (await c.api("/deviceManagement/deviceEnrollmentConfigurations").get()) as {
        value: { id: string; "@odata.type": string }[];
      };
      const types = new Set(list.value.map((x) => x["@odata.type"]));
      assert.ok(types.has("#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"));
      assert.ok(types.has("#microsoft.graph.deviceEnrollmentLimitConfiguration"));
      await assert.rejects(
        c.api("/deviceManagement/deviceEnrollmentConfigurations/esp-1").patch({ selectedMobileAppIds: [] }),
        (e: unknown) => e instanceof ClientGraphError && e.statusCode === 400 && e.code === "ModelValidationFailure",
      );
      await c.api("/deviceManagement/deviceEnrollmentConfigurations/esp-1").patch({
        "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
        showInstallationProgress: false,
        selectedMobileAppIds: [],
      });
      const esp = (await c.api("/deviceManagement/deviceEnrollmentConfigurations/esp-1").get()) as {
        showInstallationProgress: boolean;
      };
      assert.equal(esp.showInstallationProgress, false);
      await assert.rejects(
        c.api("/deviceManagement/deviceEnrollmentConfigurations/esp-1").patch({
          "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
          selectedMobileAppIds: ["4c1f4a4e-0000-4000-8000-000000000000"],
        }),
        (e: unknown) => e instanceof ClientGraphError && e.statusCode === 400,
      );
    });
  });

  describe("faults", () => {
    it("a seeded or admin-added fault answers N matching calls, then normal service resumes", async () => {
      lt.admin.addFault({ method: "GET", path: "^/beta/groups$", status: 429, retryAfter: 3, count: 2 });
      const token = lt.admin.issueToken();
      const a = await raw("GET", "/groups", token);
      const b = await raw("GET", "/groups", token);
      const c = await raw("GET", "/groups", token);
      assert.deepEqual([a.status, b.status, c.status], [429, 429, 200]);
      assert.equal(a.headers["retry-after"], "3");
      assert.equal((JSON.parse(a.text) as { error: { code: string } }).error.code, "TooManyRequests");
    });

    it("a 401 fault looks like an expired token", async () => {
      lt.admin.addFault({ path: "^/beta/groups$", status: 401 });
      const r = await raw("GET", "/groups", lt.admin.issueToken());
      assert.equal(r.status, 401);
      assert.match(r.text, /"code":"InvalidAuthenticationToken".*the token is expired/);
      assert.match(r.headers["www-authenticate"] ?? "", /^Bearer /);
    });
  });

  it("admin API: faults over HTTP (add, list, clear), state dump, reset, unknown routes", async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      httpsRequest(
        lt.caCertPem,
        log,
        method,
        `${lt.authorityHost}/_emulator/${path}`,
        body === undefined ? {} : { "content-type": "application/json" },
        body === undefined ? undefined : JSON.stringify(body),
      );
    const added = await admin("POST", "faults", { path: "^/beta/groups$", status: 503, count: 1 });
    assert.equal(added.status, 201);
    assert.equal(JSON.parse((await admin("GET", "faults")).text).length, 1);
    assert.equal((await raw("GET", "/groups", lt.admin.issueToken())).status, 503);
    assert.equal((await raw("GET", "/groups", lt.admin.issueToken())).status, 200);
    assert.equal((await admin("POST", "faults", { path: "(" })).status, 400);
    assert.equal((await admin("POST", "faults", { path: "^/beta/groups$" })).status, 201);
    assert.equal((await admin("DELETE", "faults")).status, 204);
    assert.deepEqual(JSON.parse((await admin("GET", "faults")).text), []);
    const unknown = await admin("GET", "nothing");
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /No admin route GET nothing/);
    const state = JSON.parse((await admin("GET", "state")).text) as Record<string, Record<string, unknown[]>>;
    assert.equal(state[lt.tenantId]?.["groups"]?.length, 12);
    assert.equal((await admin("POST", "reset")).status, 204);
    const dropped = lt.admin.addFault({ path: "^/beta/groups$", dropConnection: true });
    assert.ok(dropped);
    await assert.rejects(raw("GET", "/groups", lt.admin.issueToken()));
  });

  it("never called any host but 127.0.0.1", () => {
    assert.deepEqual(
      log.calls.filter((c) => new URL(c.url).hostname !== "127.0.0.1"),
      [],
    );
  });
});

describe("qualified names in the URL (Kiota SDK forms)", () => {
  it("casts and bound actions with either Graph namespace prefix route as the plain forms; other names stay", () => {
    const c = (path: string) => canonicalSegments(path.split("/").filter(Boolean)).join("/");
    for (const prefix of ["graph", "microsoft.graph", "Microsoft.Graph"]) {
      assert.equal(c(`mobileApps/${prefix}.win32LobApp`), "mobileApps/microsoft.graph.win32LobApp");
      assert.equal(c(`mobileApps/${prefix}.mobileLobApp`), "mobileApps/microsoft.graph.mobileLobApp");
      assert.equal(
        c(`mobileApps/1/${prefix}.win32LobApp/contentVersions/1/files/f/${prefix}.commit`),
        "mobileApps/1/microsoft.graph.win32LobApp/contentVersions/1/files/f/commit",
      );
      for (const action of ["assign", "updateRelationships", "renewUpload"])
        assert.equal(c(`mobileApps/1/${prefix}.${action}`), `mobileApps/1/${action}`);
    }
    // Not a type or action the emulated routes know: left as written (501 / 404 downstream, as before).
    assert.equal(c("mobileApps/1/graph.iosLobApp"), "mobileApps/1/graph.iosLobApp");
    assert.equal(
      c("mobileApps/1/microsoft.graph.getRelatedAppStates"),
      "mobileApps/1/microsoft.graph.getRelatedAppStates",
    );
    assert.equal(c("groups/contoso.graph.x"), "groups/contoso.graph.x");
  });
});
