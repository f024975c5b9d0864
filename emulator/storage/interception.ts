// What the embedded storage does before Azurite sees a request: the local tenant's injected faults, upload URLs
// that were retired (commit, deletion), and the byte-counting SAS expiry fault.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { AUTHENTICATION_FAILED_MESSAGE, sendStorageError } from "./errors.js";

/** A URL path as a key: percent-decoded, so differently encoded spellings of one blob meet. */
export function blobKey(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

export interface GateOptions {
  /** Sees every request first (the local tenant's fault injection); true when it answered or dropped it. */
  intercept?: ((req: IncomingMessage, res: ServerResponse, url: URL) => boolean) | undefined;
  /** Expires the access policy named by the SAS of a request URL (path and query): its byte budget is spent. */
  expirePolicyOf(requestUrl: string): Promise<void>;
}

/**
 * Sits in front of Azurite's request listeners on its HTTPS server. A client's request (SAS-signed: the local
 * tenant's own calls carry the account key's Authorization header) meets, in order: the injected faults, the
 * retired-URL refusal, and the byte budget of a Put Block.
 */
export class RequestGate {
  /** blobs whose upload URL was retired, by decoded URL path */
  private readonly retired = new Set<string>();
  /** Put Block bytes a blob's URL still accepts before it expires, by URL path */
  private readonly byteBudgets = new Map<string, number>();

  constructor(
    private readonly httpServer: HttpsServer,
    private readonly o: GateOptions,
  ) {
    const azurite = httpServer.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
    httpServer.removeAllListeners("request");
    httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
      const forward = (): void => azurite.forEach((l) => l.call(this.httpServer, req, res));
      this.handle(req, res, forward);
    });
  }

  /** From now on every SAS request for the blob of `pathname` answers 403 AuthenticationFailed. */
  retire(pathname: string): void {
    this.retired.add(blobKey(pathname));
  }

  isRetired(pathname: string): boolean {
    return this.retired.has(blobKey(pathname));
  }

  /** Put Block bodies for the blob of `pathname` may total `bytes`; the block passing the mark meets an expired URL. */
  limitBytes(pathname: string, bytes: number): void {
    this.byteBudgets.set(pathname, bytes);
  }

  private handle(req: IncomingMessage, res: ServerResponse, forward: () => void): void {
    const url = new URL(req.url ?? "/", "https://storage.invalid");
    if (this.o.intercept?.(req, res, url) === true) return;
    if (req.headers.authorization === undefined && url.searchParams.has("sig") && this.isRetired(url.pathname)) {
      return sendStorageError(req, res, {
        status: 403,
        code: "AuthenticationFailed",
        message: AUTHENTICATION_FAILED_MESSAGE,
        detail:
          "The upload URL was revoked: its content file was committed (or deleted), so it no longer accepts requests.",
      });
    }
    const left = this.byteBudgets.get(url.pathname);
    if (left === undefined || req.method !== "PUT" || url.searchParams.get("comp") !== "block") return forward();
    const remaining = left - Number(req.headers["content-length"] ?? 0);
    if (remaining >= 0) {
      this.byteBudgets.set(url.pathname, remaining);
      return forward();
    }
    this.byteBudgets.delete(url.pathname);
    req.pause();
    // The request's own URL carries the SAS (si=) that names the access policy to expire.
    const expired = Promise.resolve().then(() => this.o.expirePolicyOf(req.url ?? ""));
    void expired.then(forward, forward);
  }
}
