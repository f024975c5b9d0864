/**
 * Azure Storage's error answer (docs/reference/graph-win32-upload.md §2.6, §4 item 12; docs/reference/azurite.md §1.3):
 * an XML `<Error>` whose `Code` is also in `x-ms-error-code`, a `Message` whose later lines are the request id and
 * time, and storage's request ids. The request body is read first, as a server does before answering (an unread Put
 * Block body would make the client see a reset connection instead of the answer).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Azure's text for 403 AuthenticationFailed (a tampered, expired or revoked SAS; §4 item 12). */
export const AUTHENTICATION_FAILED_MESSAGE =
  "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.";

export interface StorageErrorAnswer {
  status: number;
  code: string;
  /** the first line of `Message` */
  message: string;
  /** `AuthenticationErrorDetail` (AuthenticationFailed answers carry one) */
  detail?: string;
  headers?: Record<string, string>;
}

const xmlText = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function sendStorageError(req: IncomingMessage, res: ServerResponse, a: StorageErrorAnswer): void {
  const answer = (): void => {
    const requestId = randomUUID();
    const detail =
      a.detail === undefined ? "" : `<AuthenticationErrorDetail>${xmlText(a.detail)}</AuthenticationErrorDetail>`;
    const body =
      `\ufeff<?xml version="1.0" encoding="utf-8"?><Error><Code>${xmlText(a.code)}</Code>` +
      `<Message>${xmlText(a.message)}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message>${detail}</Error>`;
    const headers: Record<string, string> = {
      "content-type": "application/xml",
      "x-ms-error-code": a.code,
      "x-ms-request-id": requestId,
      ...a.headers,
    };
    const clientRequestId = req.headers["x-ms-client-request-id"];
    if (typeof clientRequestId === "string") headers["x-ms-client-request-id"] = clientRequestId;
    res.writeHead(a.status, headers).end(body);
  };
  req.resume();
  if (req.readableEnded) answer();
  else req.once("end", answer);
}
