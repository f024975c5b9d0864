/**
 * Test support: Microsoft's Graph JS client, unchanged, pointed at the local tenant. Its HTTP stage is replaced by
 * one that trusts the local CA (the stock HTTPMessageHandler uses the global fetch and the default trust store).
 */
import assert from "node:assert/strict";
import { AuthenticationHandler, Client, GraphError } from "@microsoft/microsoft-graph-client";
import type { AuthenticationProvider, Context, Middleware } from "@microsoft/microsoft-graph-client";
import type { LocalTenant } from "../server.js";
import { CallLog, trustingFetch } from "./clients.js";

class TrustingHttpHandler implements Middleware {
  constructor(private readonly doFetch: typeof fetch) {}
  async execute(context: Context): Promise<void> {
    context.response = await this.doFetch(context.request as string | Request, context.options as RequestInit);
  }
}

export function graphClient(opts: {
  origin: string;
  caPem: string;
  getToken: () => Promise<string> | string;
  log?: CallLog;
  version?: "beta" | "v1.0";
}): Client {
  const authProvider: AuthenticationProvider = { getAccessToken: async () => opts.getToken() };
  const auth = new AuthenticationHandler(authProvider);
  auth.setNext(new TrustingHttpHandler(trustingFetch(opts.caPem, opts.log)));
  return Client.initWithMiddleware({
    middleware: auth,
    baseUrl: opts.origin,
    defaultVersion: opts.version ?? "beta",
    customHosts: new Set([new URL(opts.origin).hostname]),
  });
}

/** The Graph JS client for a local tenant, with the tokens its admin API mints (`roles`: other permissions). */
export function tenantGraphClient(
  lt: LocalTenant,
  opts: { log?: CallLog; version?: "beta" | "v1.0"; roles?: string[] } = {},
): Client {
  return graphClient({
    origin: lt.authorityHost,
    caPem: lt.caCertPem,
    log: opts.log ?? new CallLog(),
    version: opts.version,
    getToken: () => lt.admin.issueToken(opts.roles === undefined ? {} : { roles: opts.roles }),
  });
}

/** The Graph JS client's error a request ends with (fails the test when it succeeds or fails otherwise). */
export async function graphError(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof GraphError, String(e));
    return e;
  }
  assert.fail("expected a Graph error");
}
