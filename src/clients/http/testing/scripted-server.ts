/**
 * Test support: a real HTTP(S) server on 127.0.0.1 (port 0) answering from a script, recording what it received,
 * and a recording `Sleep` so retry tests assert the waits without spending them.
 */
import { createServer as createHttpServer } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { abortError } from "../errors.js";
import type { Sleep } from "../types.js";

export interface ReceivedRequest {
  method: string;
  /** path and query, as sent */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** `drop` destroys the socket after reading the request: the client sees a dropped connection. */
export type Reply = { status: number; headers?: Record<string, string>; body?: unknown } | "drop";

export type Script = (request: ReceivedRequest, index: number) => Reply | Promise<Reply>;

export interface ScriptedServer {
  /** http(s)://127.0.0.1:PORT */
  origin: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/** Serves `replies` in order; a request past the end gets 500 (and fails the test through its assertions). */
export function inOrder(...replies: Reply[]): Script {
  return (_req, i) => replies[i] ?? { status: 500, body: { error: { code: "ScriptExhausted", message: "" } } };
}

export async function startScriptedServer(
  script: Script,
  tls?: { cert: string; key: string },
): Promise<ScriptedServer> {
  const received: ReceivedRequest[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      received.push(r);
      void Promise.resolve(script(r, received.length - 1)).then((reply) => {
        if (reply === "drop") {
          req.socket.destroy();
          return;
        }
        const text =
          reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
        const headers: Record<string, string> = { ...reply.headers };
        if (reply.body !== undefined && typeof reply.body !== "string") headers["content-type"] ??= "application/json";
        res.writeHead(reply.status, headers).end(text);
      });
    });
  };
  const server = tls === undefined ? createHttpServer(handle) : createHttpsServer(tls, handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A `Sleep` that records each wait and returns at once (still honouring an aborted signal). */
export function recordingSleep(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms, signal) => {
      waits.push(ms);
      if (signal?.aborted) throw abortError(signal);
    },
  };
}
