/**
 * The downloads' body reader on our own HTTP reader's bodies (the direct path: chunks straight from the socket,
 * without the Readable's buffering and events), against a local server that writes raw bytes: back-pressure onto
 * the socket, an error mid-body, the idle timeout.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { setImmediate as immediate } from "node:timers/promises";
import { toNetworkError } from "../../clients/http/errors.js";
import { NetworkError } from "../../clients/http/errors.js";
import { createStreamTransport } from "../../clients/http/stream-transport.js";
import { BodyReader } from "./body-reader.js";

const MiB = 1024 * 1024;
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

describe("body reader on the raw HTTP reader's bodies", () => {
  let server: Server;
  let port: number;
  // more than the loopback's socket buffers can hold (receive up to 32 MiB with autotuning, send 4 MiB)
  const body = randomBytes(48 * MiB);
  /** bytes the server managed to hand to its socket, by path */
  const written = new Map<string, number>();

  before(async () => {
    server = createServer((s: Socket) => {
      s.once("data", (d: Buffer) => {
        const path = d.toString("latin1").split(" ")[1] ?? "";
        s.on("error", () => undefined);
        if (path === "/big") {
          s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
          // Piece by piece, honouring the socket's back-pressure: what is written shows how far the client read.
          let at = 0;
          const pump = (): void => {
            while (at < body.length) {
              const piece = body.subarray(at, at + 64 * 1024);
              at += piece.length;
              written.set(path, at);
              if (!s.write(piece)) return void s.once("drain", pump);
            }
            s.end();
          };
          pump();
        } else if (path === "/cut") {
          s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${MiB}\r\n\r\n`);
          s.write(body.subarray(0, 100_000), () => s.destroy());
        } else if (path === "/stall") {
          s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${MiB}\r\n\r\n`);
          s.write(body.subarray(0, 1000)); // then nothing: the idle timeout must end it
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const transport = createStreamTransport({ idleTimeoutMs: 300 });
  after(() => transport.close());
  // The default idle timeout: a long pause must not end the body.
  const patient = createStreamTransport();
  after(() => patient.close());
  const request = (path: string) => ({ method: "GET" as const, url: `http://127.0.0.1:${port}${path}`, headers: {} });
  /** Reads the body of `path` (idle timeout 300 ms) until it fails: the request, its error and the bytes before it. */
  const readToFailure = async (path: string) => {
    const sent = request(path);
    const res = await transport.stream(sent);
    let received = 0;
    const error = await new BodyReader(res.body)
      .pipeTo((chunk) => (received += chunk.length))
      .then(
        () => assert.fail("the body must fail"),
        (e: unknown) => e,
      );
    return { sent, error, received };
  };

  it("takes the chunks without the Readable's events; a pause stops the socket, a resume brings the rest", async () => {
    const res = await patient.stream(request("/big"));
    const reader = new BodyReader(res.body);
    assert.equal(res.body.listenerCount("data"), 0, "no 'data' event per chunk");
    const hash = createHash("sha256");
    let received = 0;
    let atPause = -1;
    const done = reader.pipeTo((chunk) => {
      hash.update(chunk);
      received += chunk.length;
      if (atPause < 0 && received >= MiB) {
        atPause = received;
        reader.pause();
      }
    });
    done.catch(() => undefined); // awaited below
    while (atPause < 0) await new Promise((r) => setTimeout(r, 5));
    // Paused: the client stops reading, the kernel's buffers fill, the server's writes back up (unchanged 5 times).
    for (let same = 0, last = -1; same < 5;) {
      await new Promise((r) => setTimeout(r, 20));
      await immediate();
      const now = written.get("/big") ?? 0;
      same = now === last ? same + 1 : 0;
      last = now;
    }
    assert.ok(
      received - atPause < 256 * 1024,
      `at most what one read held arrived after the pause (${received - atPause})`,
    );
    assert.ok((written.get("/big") ?? 0) < body.length, "the server was held back");
    reader.resume();
    await done;
    assert.equal(received, body.length);
    assert.equal(hash.digest("hex"), sha256(body));
  });

  it("a connection cut mid-body reaches the reader as a dropped connection, after every byte before it", async () => {
    const { sent, error, received } = await readToFailure("/cut");
    const failure = toNetworkError(error, sent);
    assert.ok(failure instanceof NetworkError);
    assert.equal(failure.failure, "dropped");
    assert.equal(received, 100_000);
  });

  it("the idle timeout ends a body that stops, with the reader attached", async () => {
    const { error, received } = await readToFailure("/stall");
    assert.equal((error as NodeJS.ErrnoException).code, "ETIMEDOUT");
    assert.equal(received, 1000);
  });
});
