/**
 * A minimal HTTP/1.1 client for one request per connection on a socket the caller opened (TLS, plain or tunnelled):
 * writes the request head, parses the answer's head from the socket's chunks (strict, bounded) and hands the body on
 * as the socket's own chunks (views, no copy), framed by Content-Length, chunked encoding or the connection's close.
 * The body is a Readable; a reader may instead take its chunks directly (`DirectBody.attachSink`, what downloads do),
 * without the Readable's buffering and one event less per TLS record.
 *
 * Why not node:http (measured, bench/README.md "download"): its parser and IncomingMessage cost ≈ 0.8 CPU-s per GiB
 * on top of TLS, about a fifth of a download's CPU. What is not supported, by design: keep-alive (every answer is
 * `connection: close`), pipelining, upgrades (101), other transfer codings than `chunked`.
 */
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";

/** Bounds of an answer's head (status line and headers, each interim 1xx answer counted on its own). */
export const RAW_HEAD_LIMITS = {
  maxHeadBytes: 64 * 1024,
  maxHeaderLines: 100,
  maxInterimAnswers: 10,
  maxChunkSizeDigits: 16,
  maxChunkLineBytes: 4096,
  maxTrailerBytes: 64 * 1024,
};

/** A malformed answer (code HPE_INVALID) or a connection closed before the answer was complete (ECONNRESET). */
export function httpProtocolError(message: string, code = "HPE_INVALID"): Error {
  return Object.assign(new Error(message), { code });
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?$/;

/** The request head; throws on a name that is not a token or a value with CR, LF or NUL (header injection). */
export function requestHead(method: string, url: URL, headers: Record<string, string>): string {
  if (!TOKEN.test(method)) throw httpProtocolError(`The request method ${JSON.stringify(method)} is not valid.`);
  let head = `${method} ${url.pathname || "/"}${url.search} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name))
      throw httpProtocolError(`The request header name ${JSON.stringify(name)} is not valid: refused before sending.`);
    if (!FIELD_VALUE.test(value))
      throw httpProtocolError(
        `The request header ${name} has a line break or control character in its value: refused before sending.`,
      );
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

export interface RawHead {
  status: number;
  headers: Record<string, string>;
}

/** Parses one head (without its final CRLF CRLF); 1xx are returned like the others. */
function parseHead(text: string): RawHead {
  const lines = text.split("\r\n");
  const statusLine = lines[0] ?? "";
  const m = STATUS_LINE.exec(statusLine);
  if (m === null)
    throw httpProtocolError(
      `The answer's status line ${JSON.stringify(statusLine.slice(0, 80))} is not "HTTP/1.x NNN reason".`,
    );
  if (lines.length - 1 > RAW_HEAD_LIMITS.maxHeaderLines)
    throw httpProtocolError(`The answer has more than ${RAW_HEAD_LIMITS.maxHeaderLines} header lines.`);
  // a Map: names such as __proto__ or constructor are ordinary headers, never the object's own machinery
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith(" ") || line.startsWith("\t"))
      throw httpProtocolError("The answer folds a header over several lines (obsolete line folding).");
    const colon = line.indexOf(":");
    if (colon <= 0)
      throw httpProtocolError(`The answer's header line ${JSON.stringify(line.slice(0, 80))} has no name and colon.`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name))
      throw httpProtocolError(`The answer's header name ${JSON.stringify(name.slice(0, 80))} is not valid.`);
    const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, "");
    if (!FIELD_VALUE.test(value)) throw httpProtocolError(`The answer's header ${name} has a control character.`);
    const key = name.toLowerCase();
    const prior = headers.get(key);
    headers.set(key, prior === undefined ? value : `${prior}, ${value}`);
  }
  return { status: Number(m[1]), headers: Object.fromEntries(headers) };
}

type Framing = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

function framingOf(head: RawHead, method: string): Framing {
  const te = head.headers["transfer-encoding"];
  const cl = head.headers["content-length"];
  if (te !== undefined && cl !== undefined)
    throw httpProtocolError("The answer has both Transfer-Encoding and Content-Length (ambiguous length).");
  if (method === "HEAD" || head.status === 204 || head.status === 304) return { kind: "none" };
  if (te !== undefined) {
    if (te.trim().toLowerCase() !== "chunked")
      throw httpProtocolError(`The answer's Transfer-Encoding ${JSON.stringify(te)} is not supported (only chunked).`);
    return { kind: "chunked" };
  }
  if (cl !== undefined) {
    const values = cl.split(",").map((v) => v.trim());
    if (values.some((v) => !/^\d{1,15}$/.test(v)) || new Set(values).size !== 1)
      throw httpProtocolError(`The answer's Content-Length ${JSON.stringify(cl.slice(0, 80))} is not one number.`);
    return { kind: "length", length: Number(values[0]) };
  }
  return { kind: "close" };
}

/**
 * A body whose reader may take the chunks directly (`attachSink`): no Readable buffering and no 'data' event per
 * chunk (a download is ~65,000 TLS records per GiB), flow control straight onto the socket. Errors and the end
 * still come as the Readable's 'error' and 'close' too.
 */
export interface DirectBody {
  /** Every later chunk goes to `onChunk` (those the Readable already holds first), the end to `onEnd`. */
  attachSink(onChunk: (chunk: Buffer) => void, onEnd: () => void): void;
  pauseSource(): void;
  resumeSource(): void;
}

export function isDirectBody(body: unknown): body is DirectBody & Readable {
  return typeof (body as Partial<DirectBody>).attachSink === "function";
}

/**
 * The body: the socket's chunks pushed as they come (the socket is paused while the body's buffer is full), or,
 * once a sink is attached, handed to it as they come (the socket paused and resumed by the sink's reader).
 */
class RawBody extends Readable implements DirectBody {
  constructor(private readonly socket: Duplex) {
    super({ highWaterMark: 256 * 1024 });
  }

  /** true until the bytes read with the head are delivered: the socket stays paused until then */
  private held = true;
  private sink: ((chunk: Buffer) => void) | undefined;
  private sinkEnd: (() => void) | undefined;
  private sourcePaused = false;
  private complete = false;

  override _read(): void {
    if (!this.held && this.sink === undefined && this.socket.isPaused()) this.socket.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }

  attachSink(onChunk: (chunk: Buffer) => void, onEnd: () => void): void {
    for (let c = this.read() as Buffer | null; c !== null; c = this.read() as Buffer | null) onChunk(c);
    this.sink = onChunk;
    this.sinkEnd = onEnd;
    if (this.complete) {
      onEnd();
      this.resume();
    }
  }

  pauseSource(): void {
    this.sourcePaused = true;
    this.socket.pause();
  }

  resumeSource(): void {
    this.sourcePaused = false;
    if (!this.held && !this.destroyed) this.socket.resume();
  }

  /** The bytes read with the head were delivered: the socket may flow. */
  release(): void {
    this.held = false;
    if (this.sink !== undefined ? !this.sourcePaused : this.readableLength < this.readableHighWaterMark)
      this.socket.resume();
  }

  deliver(chunk: Buffer): void {
    if (this.sink !== undefined) this.sink(chunk);
    else if (!this.push(chunk)) this.socket.pause();
  }

  /** The body is complete. */
  finish(): void {
    this.complete = true;
    this.push(null);
    if (this.sink === undefined) return;
    this.sinkEnd?.();
    // Nobody reads the Readable side: let it flow so that it ends and closes as usual.
    this.resume();
  }
}

const CR = 13;
const LF = 10;
const HEX = (b: number): number =>
  b >= 48 && b <= 57 ? b - 48 : b >= 97 && b <= 102 ? b - 87 : b >= 65 && b <= 70 ? b - 55 : -1;

/** The chunked-coding state machine: hands data on as views of the input, checks every CRLF, skips extensions and trailers. */
class ChunkedDecoder {
  private state: "size" | "ext" | "sizeLf" | "data" | "dataCr" | "dataLf" | "trailer" | "trailerLf" | "done" = "size";
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  private remaining = 0;

  get done(): boolean {
    return this.state === "done";
  }

  /** Feeds bytes; calls `data` with each piece of chunk data; returns when the input is used up or the body is done. */
  feed(buf: Buffer, data: (piece: Buffer) => void): void {
    let i = 0;
    const n = buf.length;
    while (i < n && this.state !== "done") {
      switch (this.state) {
        case "data": {
          const take = Math.min(this.remaining, n - i);
          data(buf.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = "dataCr";
          break;
        }
        case "size": {
          const b = buf[i++] as number;
          const h = HEX(b);
          if (h >= 0) {
            if (++this.digits > RAW_HEAD_LIMITS.maxChunkSizeDigits)
              throw httpProtocolError(`A chunk size has more than ${RAW_HEAD_LIMITS.maxChunkSizeDigits} hex digits.`);
            this.size = this.size * 16 + h;
            if (this.size > Number.MAX_SAFE_INTEGER) throw httpProtocolError("A chunk size is too large.");
          } else if (this.digits === 0) {
            throw httpProtocolError("A chunk size line does not start with a hex number.");
          } else if (b === CR) {
            this.state = "sizeLf";
          } else if (b === 0x3b || b === 0x20 || b === 0x09) {
            this.state = "ext";
            this.lineBytes = this.digits + 1;
          } else {
            throw httpProtocolError("A chunk size is followed by something else than an extension or CRLF.");
          }
          break;
        }
        case "ext": {
          const b = buf[i++] as number;
          if (b === CR) this.state = "sizeLf";
          else if (b === LF) throw httpProtocolError("A chunk size line ends with a bare LF.");
          else if (++this.lineBytes > RAW_HEAD_LIMITS.maxChunkLineBytes)
            throw httpProtocolError(`A chunk size line is longer than ${RAW_HEAD_LIMITS.maxChunkLineBytes} bytes.`);
          break;
        }
        case "sizeLf": {
          if (buf[i++] !== LF) throw httpProtocolError("A chunk size line's CR is not followed by LF.");
          if (this.size === 0) {
            this.state = "trailer";
            this.lineBytes = 0;
          } else {
            this.remaining = this.size;
            this.state = "data";
          }
          this.size = 0;
          this.digits = 0;
          break;
        }
        case "dataCr":
          if (buf[i++] !== CR) throw httpProtocolError("A chunk's data is not followed by CRLF (wrong chunk size).");
          this.state = "dataLf";
          break;
        case "dataLf":
          if (buf[i++] !== LF) throw httpProtocolError("A chunk's data is not followed by CRLF (wrong chunk size).");
          this.state = "size";
          break;
        case "trailer": {
          const b = buf[i++] as number;
          if (b === CR) this.state = "trailerLf";
          else if (b === LF) throw httpProtocolError("A trailer line ends with a bare LF.");
          else this.lineBytes++;
          if (++this.trailerBytes > RAW_HEAD_LIMITS.maxTrailerBytes)
            throw httpProtocolError(
              `The chunked body's trailers are longer than ${RAW_HEAD_LIMITS.maxTrailerBytes} bytes.`,
            );
          break;
        }
        case "trailerLf":
          if (buf[i++] !== LF) throw httpProtocolError("A trailer line's CR is not followed by LF.");
          if (this.lineBytes === 0) this.state = "done";
          else {
            this.lineBytes = 0;
            this.state = "trailer";
          }
          break;
      }
    }
  }
}

const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * Sends `head` (and `body`) on `socket` and resolves with the answer's status, headers and body once its head has
 * arrived (after any 1xx). Rejects with the socket's error or a protocol error (code HPE_INVALID, or ECONNRESET for a
 * connection closed before the answer was complete); the same errors destroy the body after that.
 */
export function rawExchange(
  socket: Duplex,
  method: string,
  head: string,
  body: string | Uint8Array | undefined,
): Promise<RawHead & { body: Readable }> {
  return new Promise((resolve, reject) => {
    let pending: Buffer | undefined;
    let interim = 0;
    let out: RawBody | undefined;
    let framing: Framing = { kind: "close" };
    let remaining = 0;
    let chunked: ChunkedDecoder | undefined;
    let finished = false;
    // False until the caller had the body (microtasks after `resolve`): an error before then would find no listener.
    let ready = false;

    const fail = (e: Error): void => {
      if (finished) return;
      finished = true;
      socket.destroy();
      const body = out;
      if (body === undefined) reject(e);
      else if (ready) body.destroy(e);
      else setImmediate(() => body.destroy(e));
    };
    const end = (): void => {
      if (finished) return;
      finished = true;
      out?.finish();
      socket.destroy();
    };
    const onBody = (chunk: Buffer): void => {
      const body = out as RawBody;
      if (framing.kind === "length") {
        if (chunk.length >= remaining) {
          if (remaining > 0) body.deliver(chunk.length === remaining ? chunk : chunk.subarray(0, remaining));
          remaining = 0;
          end();
        } else {
          remaining -= chunk.length;
          body.deliver(chunk);
        }
      } else if (framing.kind === "chunked") {
        const decoder = chunked as ChunkedDecoder;
        decoder.feed(chunk, (piece) => body.deliver(piece));
        if (decoder.done) end();
      } else if (framing.kind === "close") {
        body.deliver(chunk);
      }
    };
    const onHead = (chunk: Buffer): void => {
      let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const at = buf.indexOf(HEAD_END, Math.max(0, (pending?.length ?? 0) - 3));
        if (at < 0) {
          if (buf.length > RAW_HEAD_LIMITS.maxHeadBytes)
            throw httpProtocolError(`The answer's head is larger than ${RAW_HEAD_LIMITS.maxHeadBytes} bytes.`);
          pending = buf;
          return;
        }
        if (at > RAW_HEAD_LIMITS.maxHeadBytes)
          throw httpProtocolError(`The answer's head is larger than ${RAW_HEAD_LIMITS.maxHeadBytes} bytes.`);
        const parsed = parseHead(buf.toString("latin1", 0, at));
        const rest = buf.subarray(at + 4);
        if (parsed.status >= 100 && parsed.status < 200) {
          if (parsed.status === 101)
            throw httpProtocolError("The answer switches protocols (101), which is not supported.");
          if (++interim > RAW_HEAD_LIMITS.maxInterimAnswers)
            throw httpProtocolError(
              `The answer has more than ${RAW_HEAD_LIMITS.maxInterimAnswers} interim (1xx) heads.`,
            );
          pending = undefined;
          buf = rest;
          continue;
        }
        framing = framingOf(parsed, method);
        pending = undefined;
        out = new RawBody(socket);
        resolve({ ...parsed, body: out });
        if (framing.kind === "none" || (framing.kind === "length" && framing.length === 0)) {
          end();
          return;
        }
        if (framing.kind === "length") remaining = framing.length;
        if (framing.kind === "chunked") chunked = new ChunkedDecoder();
        // The bytes after the head once the caller listens; the socket waits until then.
        socket.pause();
        const body = out;
        setImmediate(() => {
          ready = true;
          if (finished) return;
          try {
            if (rest.length > 0) onBody(rest);
          } catch (e) {
            fail(e as Error);
            return;
          }
          if (!finished) body.release();
        });
        return;
      }
    };

    socket.on("data", (chunk: Buffer) => {
      if (finished) return;
      try {
        if (out === undefined) onHead(chunk);
        else onBody(chunk);
      } catch (e) {
        fail(e as Error);
      }
    });
    socket.on("error", (e: Error) => fail(e));
    socket.on("close", () => {
      if (finished) return;
      if (out !== undefined && framing.kind === "close") end();
      else if (out === undefined)
        fail(httpProtocolError("The connection closed before the answer's head was complete.", "ECONNRESET"));
      else fail(httpProtocolError("The connection closed before the answer's body was complete.", "ECONNRESET"));
    });
    socket.write(head, "latin1");
    if (body !== undefined && body.length > 0) socket.write(body);
  });
}
