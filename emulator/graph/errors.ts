/** Graph error bodies (docs/reference/entra-errors.md §2.3; docs/reference/graph-win32-upload.md §2.0). */
import type { GraphErrorBodyWire } from "../../src/core/wire/graph.js";
import type { GraphRequest } from "./types.js";

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GraphError";
  }
}

export function errorBody(
  code: string,
  message: string,
  requestId: string,
  clientRequestId: string,
  date: Date,
): GraphErrorBodyWire {
  return {
    error: {
      code,
      message,
      innerError: {
        date: date.toISOString().replace(/\.\d{3}Z$/, ""),
        "request-id": requestId,
        "client-request-id": clientRequestId,
      },
    },
  };
}

/**
 * Intune wraps its own error in a JSON string inside `message` (docs/reference/entra-errors.md §2.3: `_version` 3,
 * `Message`, …, CRLF-indented).
 */
export function intuneMessage(text: string, activityId: string, url: string): string {
  const inner = {
    _version: 3,
    Message: `${text} - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: ${activityId} - Url: ${url}`,
    CustomApiErrorPhrase: "",
    RetryAfter: null,
    ErrorSourceService: "",
    HttpHeaders: "{}",
  };
  return JSON.stringify(inner, null, 2).replace(/\n/g, "\r\n");
}

export const badRequest = (message: string): GraphError => new GraphError(400, "BadRequest", message);
export const notFound = (message: string): GraphError => new GraphError(404, "ResourceNotFound", message);
/** ODataLib's answer to a body the type's model refuses. */
export const modelValidation = (message: string): GraphError => new GraphError(400, "ModelValidationFailure", message);
/** Intune's 400: its own error as JSON inside `message`, naming the request. */
export const intuneBadRequest = (req: GraphRequest, text: string): GraphError =>
  new GraphError(400, "BadRequest", intuneMessage(text, req.requestId, `${req.baseUrl}${req.path}`));
