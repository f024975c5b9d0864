// The console's server without a browser: the one-time token, the session cookie, the Host check (DNS rebinding),
// CSRF on writes, the security headers, and the `console` command's start-up (loopback, TLS, --output json).
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { SecretRegistry } from "../../src/clients/http/redact.js";
import { startConsole } from "../../src/console/server.js";
import type { RunningConsole } from "../../src/console/server.js";
import { localTenantLauncher } from "../../src/publish/connect/local-tenant-launcher.js";
import { homeEnv, runCli, spawnCli, stopChild } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not let a test set Host). */
function send(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? "GET", headers: o.headers ?? {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(o.body);
  });
}

const scratch = useScratch("console-server-");

describe("console server: access", () => {
  let c: RunningConsole;
  let home: string;
  before(async () => {
    home = await scratch();
    c = await startConsole({
      port: 0,
      env: homeEnv(home),
      cwd: home,
      stateDir: `${home}/no-emulator`,
      launcher: localTenantLauncher,
      secrets: new SecretRegistry(),
    });
  });
  after(async () => {
    await c.close();
  });

  const host = (): string => new URL(c.origin).host;

  it("refuses every request without the session: pages, API and assets answer 401", async () => {
    for (const path of ["/connection", "/api/profiles", "/assets/pages/main.js", "/connection?token=wrong"]) {
      const r = await send(`${c.origin}${path}`);
      assert.equal(r.status, 401, path);
      assert.doesNotMatch(r.body, /csrf-token/);
    }
  });

  it("refuses a foreign Host header (DNS rebinding) even with the token, which stays unused", async () => {
    const r = await send(c.url, { headers: { Host: `attacker.example:${new URL(c.origin).port}` } });
    assert.equal(r.status, 421);
    assert.equal(r.headers["set-cookie"], undefined);
  });

  let cookie = "";
  let csrf = "";
  it("turns the one-time token into an HttpOnly SameSite=Strict cookie, redirecting to the URL without it", async () => {
    const r = await send(c.url);
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, "/connection");
    const set = String(r.headers["set-cookie"]);
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    cookie = set.split(";")[0]!;
    const again = await send(c.url);
    assert.equal(again.status, 401, "the token works once");
    const page = await send(`${c.origin}/connection`, { headers: { Cookie: cookie } });
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-security-policy"]), /default-src 'self'.*script-src 'self'/);
    assert.equal(page.headers["x-content-type-options"], "nosniff");
    assert.doesNotMatch(page.body, /<script>|\son[a-z]+=/i, "no inline script or handler");
    assert.doesNotMatch(page.body, new RegExp(new URL(c.url).searchParams.get("token")!));
    csrf = /name="csrf-token" content="([^"]+)"/.exec(page.body)![1]!;
    const foreign = await send(`${c.origin}/connection`, { headers: { Cookie: cookie, Host: "evil.example" } });
    assert.equal(foreign.status, 421, "the session does not help a foreign Host");
  });

  it("refuses writes without the CSRF token or from another origin, and accepts them with it", async () => {
    const body = JSON.stringify({ profile: null });
    const json = { "Content-Type": "application/json", Cookie: cookie };
    const without = await send(`${c.origin}/api/profiles/select`, { method: "POST", headers: json, body });
    assert.equal(without.status, 403);
    const wrong = await send(`${c.origin}/api/profiles/select`, {
      method: "POST",
      headers: { ...json, "X-CSRF-Token": "x".repeat(csrf.length) },
      body,
    });
    assert.equal(wrong.status, 403);
    const cross = await send(`${c.origin}/api/profiles/select`, {
      method: "POST",
      headers: { ...json, "X-CSRF-Token": csrf, Origin: "http://evil.example" },
      body,
    });
    assert.equal(cross.status, 403);
    const ok = await send(`${c.origin}/api/profiles/select`, {
      method: "POST",
      headers: { ...json, "X-CSRF-Token": csrf, Origin: c.origin },
      body,
    });
    assert.equal(ok.status, 200, ok.body);
    assert.equal((JSON.parse(ok.body) as { current: unknown }).current, null);
    assert.equal(host(), new URL(c.origin).host);
  });

  it("answers a malformed form with the field and the fix (400), writing nothing", async () => {
    const r = await send(`${c.origin}/api/profiles`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Cookie: cookie, "X-CSRF-Token": csrf },
      body: JSON.stringify({ name: "bad name", cloud: "global", tenant: "t", clientId: "x", credentialType: "secret" }),
    });
    assert.equal(r.status, 400);
    const e = (JSON.parse(r.body) as { error: { code: string; message: string } }).error;
    assert.equal(e.code, "ConsoleRequestInvalid");
    assert.match(e.message, /^name: /);
  });

  it("serves the support bundle as a zip attachment, behind the session", async () => {
    const without = await send(`${c.origin}/api/diagnostics/bundle`);
    assert.equal(without.status, 401);
    const r = await send(`${c.origin}/api/diagnostics/bundle`, { headers: { Cookie: cookie } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers["content-type"], "application/zip");
    assert.match(
      String(r.headers["content-disposition"]),
      /^attachment; filename="intune-publisher-support-[\d-]+\.zip"$/,
    );
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.ok(r.body.startsWith("PK\u0003\u0004"), "a zip");
    for (const name of ["about.json", "settings.json", "connection-test.json", "local-tenant.json"])
      assert.ok(r.body.includes(name), name);
  });
});

describe("console command", () => {
  it("refuses a non-loopback --host without --tls-cert/--tls-key (usage, no stack trace)", async () => {
    const home = await scratch();
    const r = await runCli(["console", "--host", "0.0.0.0", "--port", "0"], homeEnv(home));
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /not a loopback address/);
    assert.match(r.stderr, /--tls-cert/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it("--port 0 --output json prints {url} with the token; the URL serves the console", async () => {
    const home = await scratch();
    const child = await spawnCli(["console", "--port", "0", "--output", "json"], homeEnv(home), home);
    try {
      let url: string | undefined;
      while (url === undefined) {
        if (child.proc.exitCode !== null) throw new Error(`console ended: ${child.stderr()}`);
        try {
          url = (JSON.parse(child.stdout()) as { url: string }).url;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      const u = new URL(url);
      assert.equal(u.hostname, "127.0.0.1");
      assert.notEqual(u.port, "8731");
      assert.match(u.searchParams.get("token") ?? "", /^[A-Za-z0-9_-]{40,}$/);
      assert.equal((await send(url)).status, 303);
    } finally {
      await stopChild(child);
    }
  });
});
