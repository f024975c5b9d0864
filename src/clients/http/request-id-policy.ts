import { randomUUID } from "node:crypto";
import type { HttpPolicy } from "./types.js";

/**
 * Sets `client-request-id` (a random GUID, kept when the caller already set one) once per logical request, so
 * every retry of it carries the same id; Graph echoes it and adds its own `request-id`
 * (docs/reference/graph-conventions.md §6.1). Both stay on the response for errors and logs.
 */
export function requestIdPolicy(newId: () => string = randomUUID): HttpPolicy {
  return {
    name: "requestId",
    send(request, next) {
      if (request.headers["client-request-id"] !== undefined) return next(request);
      return next({ ...request, headers: { ...request.headers, "client-request-id": newId() } });
    },
  };
}
