/** Transport-free request/response shapes of the Graph emulator, so `$batch` can dispatch inner requests. */

export interface Caller {
  tenantId: string;
  appId: string;
  roles: ReadonlySet<string>;
}

export type GraphVersion = "beta" | "v1.0";

export interface GraphRequest {
  method: string;
  version: GraphVersion;
  /** path after the version, without query, e.g. `/deviceAppManagement/mobileApps` */
  path: string;
  query: URLSearchParams;
  /** lower-cased names */
  headers: Record<string, string>;
  /** parsed JSON body, undefined when none */
  body: unknown;
  caller: Caller;
  /** e.g. https://127.0.0.1:PORT/beta */
  baseUrl: string;
  requestId: string;
  clientRequestId: string;
}

export interface GraphResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}
