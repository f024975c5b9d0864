/**
 * The console's web server (node:http; docs/console.md, docs/DESIGN.md "Console"). Security, in the order a request
 * meets it:
 * 1. Host header: only the address it listens on (loopback: 127.0.0.1, localhost, [::1] with its port) — a page
 *    of another site that re-points its DNS name at 127.0.0.1 (DNS rebinding) is refused.
 * 2. Session: the printed URL carries a one-time token; its first use sets an HttpOnly SameSite=Strict cookie and
 *    redirects to the same path without the token. Every other request needs that cookie.
 * 3. Writes (anything but GET/HEAD): the session's CSRF token in X-CSRF-Token (the page reads it from a meta tag),
 *    a JSON body, and no foreign Origin.
 * 4. Every answer: a strict Content-Security-Policy (same-origin scripts, styles and connections; no inline script),
 *    no-store, no referrer, no framing.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { isPublisherError, PublisherError } from "../core/errors.js";
import { isLoopbackHost } from "../publish/connect/local-tenant.js";
import type { ErrorResponse } from "./api.js";
import { ConsoleHandlers } from "./handlers.js";
import type { HandlerContext } from "./handlers.js";

/** The pages, in the navigation's order: path → title. */
export const PAGES: readonly { path: string; title: string }[] = [
  { path: "/connection", title: "Connection" },
  { path: "/tenants", title: "Tenants" },
  { path: "/apps", title: "Apps" },
  { path: "/sync", title: "Sync and publish" },
  { path: "/catalog", title: "Catalog" },
  { path: "/inventory", title: "Inventory" },
  { path: "/diagnostics", title: "Diagnostics" },
];

/** A request body (the forms are small). */
export const CONSOLE_BODY_MAX_BYTES = 64 * 1024;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export interface ConsoleOptions extends HandlerContext {
  /** default 127.0.0.1 */
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** PEM certificate and key: HTTPS (required for a host other than loopback) */
  tls?: { cert: string; key: string };
}

export interface RunningConsole {
  /** the URL to open, with the one-time token */
  url: string;
  /** scheme, host and port */
  origin: string;
  close(): Promise<void>;
}

interface Session {
  csrf: string;
}

const token = (): string => randomBytes(32).toString("base64url");

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Where the compiled pages and the stylesheet are: dist/src/console/pages and src/console/assets. */
function assetFolders(): { pages: string; css: string } {
  const here = new URL(".", import.meta.url);
  const compiled = here.pathname.includes("/dist/src/console/");
  return {
    pages: fileURLToPath(new URL("pages/", here)),
    css: fileURLToPath(new URL(compiled ? "../../../src/console/assets/console.css" : "assets/console.css", here)),
  };
}

function hostFor(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The page shell: navigation, the CSRF meta tag and the page's module; the module fills <main>. */
export function shellHtml(path: string, csrf: string): string {
  const page = PAGES.find((p) => p.path === path)!;
  const nav = PAGES.map(
    (p) => `<li><a href="${p.path}"${p.path === path ? ' aria-current="page"' : ""}>${escapeHtml(p.title)}</a></li>`,
  ).join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeHtml(csrf)}">
<title>${escapeHtml(page.title)} · intune-publisher console</title>
<link rel="stylesheet" href="/assets/console.css">
<script type="module" src="/assets/pages/main.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<p class="brand">intune-publisher</p>
<nav aria-label="Pages"><ul>${nav}</ul></nav>
</header>
<main id="main" tabindex="-1" data-page="${path.slice(1)}">
<h1>${escapeHtml(page.title)}</h1>
<p class="loading" role="status">Loading…</p>
</main>
</body>
</html>
`;
}

const SIGN_IN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in needed · intune-publisher console</title></head>
<body><main><h1>Open the console's link</h1>
<p>This console opens only through the link <code>intune-publisher console</code> printed (it carries a one-time
access token). Run the command again for a new link.</p></main></body></html>
`;

export async function startConsole(o: ConsoleOptions): Promise<RunningConsole> {
  const host = o.host ?? "127.0.0.1";
  const loopback = isLoopbackHost(host);
  if (!loopback && o.tls === undefined)
    throw new PublisherError(
      "ConsoleHostNotLoopback",
      `The console serves ${host}, which is not a loopback address, and no TLS certificate was given.`,
      {
        hint: "Keep the default (127.0.0.1), or give --tls-cert FILE and --tls-key FILE so that the access token and the session never cross the network in clear text.",
      },
    );
  const assets = assetFolders();
  const handlers = new ConsoleHandlers(o);
  const sessions = new Map<string, Session>();
  let oneTimeToken: string | undefined = token();
  const secure = o.tls !== undefined;
  let allowedHosts: Set<string> = new Set();
  let origin = "";
  let cookieName = "";

  const securityHeaders = (res: ServerResponse): void => {
    res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    res.setHeader("Cache-Control", "no-store");
  };
  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer): void => {
    res.statusCode = status;
    res.setHeader("Content-Type", type);
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, body: unknown): void =>
    send(res, status, "application/json; charset=utf-8", JSON.stringify(body));
  const sendError = (res: ServerResponse, status: number, code: string, message: string, hint?: string): void =>
    sendJson(res, status, { error: { code, message, hint } } satisfies ErrorResponse);

  const sessionOf = (req: IncomingMessage): Session | undefined => {
    for (const part of (req.headers.cookie ?? "").split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === cookieName) return sessions.get(v.join("="));
    }
    return undefined;
  };

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > CONSOLE_BODY_MAX_BYTES)
        throw new PublisherError("ConsoleRequestInvalid", "The request body is larger than 64 KiB.", {
          hint: "Send less.",
        });
      chunks.push(c as Buffer);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    try {
      return text === "" ? {} : (JSON.parse(text) as unknown);
    } catch {
      throw new PublisherError("ConsoleRequestInvalid", "The request body is not JSON.", { hint: "Send JSON." });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res);
    // 1. DNS rebinding: the Host header names this server, or nothing is answered.
    const hostHeader = (req.headers.host ?? "").toLowerCase();
    if (!allowedHosts.has(hostHeader)) return send(res, 421, "text/plain; charset=utf-8", "Unknown host.\n");
    const url = new URL(req.url ?? "/", origin);
    const method = req.method ?? "GET";
    const read = method === "GET" || method === "HEAD";

    // 2. The one-time token becomes the session cookie; the redirect drops it from the address bar and history.
    const offered = url.searchParams.get("token");
    if (offered !== null && read) {
      if (oneTimeToken === undefined || !sameSecret(offered, oneTimeToken))
        return send(res, 401, "text/html; charset=utf-8", SIGN_IN_PAGE);
      oneTimeToken = undefined;
      const id = token();
      sessions.set(id, { csrf: token() });
      res.setHeader("Set-Cookie", `${cookieName}=${id}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`);
      url.searchParams.delete("token");
      res.setHeader("Location", url.pathname + url.search);
      res.statusCode = 303;
      return void res.end();
    }
    const session = sessionOf(req);
    if (session === undefined) {
      if (url.pathname.startsWith("/api/"))
        return sendError(
          res,
          401,
          "ConsoleSessionMissing",
          "No console session.",
          "Open the link the console printed.",
        );
      return send(res, 401, "text/html; charset=utf-8", SIGN_IN_PAGE);
    }

    // 3. Writes: the CSRF token, JSON, and no foreign Origin.
    if (!read) {
      const given = req.headers["x-csrf-token"];
      const fromOrigin = req.headers.origin;
      if (
        typeof given !== "string" ||
        !sameSecret(given, session.csrf) ||
        (fromOrigin !== undefined && fromOrigin !== origin)
      )
        return sendError(res, 403, "ConsoleCsrf", "The request lacks the page's CSRF token.", "Reload the page.");
      if (!(req.headers["content-type"] ?? "").startsWith("application/json"))
        return sendError(res, 415, "ConsoleRequestInvalid", "Send JSON.", undefined);
    }

    if (read && url.pathname === "/") {
      res.setHeader("Location", "/connection");
      res.statusCode = 303;
      return void res.end();
    }
    if (read && PAGES.some((p) => p.path === url.pathname))
      return send(res, 200, "text/html; charset=utf-8", shellHtml(url.pathname, session.csrf));
    if (read && url.pathname === "/assets/console.css")
      return send(res, 200, "text/css; charset=utf-8", await readFile(assets.css));
    const asset = /^\/assets\/pages\/([a-z-]+)\.js$/.exec(url.pathname);
    if (read && asset !== null) {
      try {
        return send(res, 200, "text/javascript; charset=utf-8", await readFile(`${assets.pages}${asset[1]}.js`));
      } catch {
        return send(res, 404, "text/plain; charset=utf-8", "Not found.\n");
      }
    }
    if (url.pathname.startsWith("/api/")) {
      const route = `${method} ${url.pathname}`;
      const body = read ? undefined : await readBody(req);
      const result = await handlers.handle(route, url.searchParams, body, res);
      if (result === undefined) return sendError(res, 404, "NotFound", `No API ${route}.`, undefined);
      if (result === "streamed") return;
      return sendJson(res, 200, result.body);
    }
    return send(res, 404, "text/plain; charset=utf-8", "Not found.\n");
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.end();
      if (isPublisherError(e)) {
        const status = e.kind === "usage" || e.kind === "input" || e.kind === "config" ? 400 : 502;
        return sendError(res, status, e.code, o.secrets.scrub(e.message), e.hint && o.secrets.scrub(e.hint));
      }
      o.onError?.(e);
      sendError(res, 500, "Internal", "The console failed; the terminal running it shows why.", undefined);
    });
  };
  const server: Server = o.tls === undefined ? createHttpServer(listener) : createHttpsServer(o.tls, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL"
          ? new PublisherError("ConsolePortInUse", `The console cannot listen on ${host}:${o.port ?? 0} (${e.code}).`, {
              hint: "Choose another --port (0 picks a free one) or --host.",
            })
          : e,
      ),
    );
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = new Set(
    (loopback ? ["127.0.0.1", "localhost", "[::1]", hostFor(host.toLowerCase())] : [hostFor(host.toLowerCase())]).map(
      (h) => `${h}:${port}`,
    ),
  );
  origin = `${secure ? "https" : "http"}://${hostFor(host)}:${port}`;
  cookieName = `ip_console_${port}`;
  return {
    url: `${origin}/connection?token=${oneTimeToken}`,
    origin,
    close: async () => {
      handlers.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
