/**
 * What the CLI gives commands as stdout and stderr (main.ts): every write is scrubbed of the run's secrets and of
 * credential shapes (redact.ts `SecretRegistry`), and its control characters are escaped, so a name read from a
 * package, a server's message or a file can neither leak a secret nor drive the terminal (ESC, BEL, CSI, …).
 * Only the tool's own terminal sequences (the progress line's `\r` and `ESC[K`, a prompt's echo) pass, through
 * `drawStatusLine`, `clearStatusLine` and `writeRaw`.
 */
import { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { scrubShapes } from "../clients/http/redact.js";
import type { SecretRegistry } from "../clients/http/redact.js";

/** C0 controls except tab and line feed, DEL, and the C1 controls (U+0080–U+009F, CSI 0x9B among them). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with each control character shown as an escape: C0 as `\x1b`, DEL and C1 as `\u009b` (valid inside a
 * JSON string, so `--output json` stays JSON); a CRLF line end becomes LF. Tab and LF are kept.
 */
export function escapeControl(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    const hex = code.toString(16).padStart(2, "0");
    return code < 0x20 ? `\\x${hex}` : `\\u00${hex}`;
  });
}

type Target = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** A stream that cleans everything written to it (scrub, then escape) and passes it on to `target` at once. */
export class SafeOutput extends Writable {
  private readonly decoder = new StringDecoder("utf8");

  constructor(
    private readonly target: Target,
    private readonly secrets: SecretRegistry,
  ) {
    super({ decodeStrings: false });
  }

  get isTTY(): boolean | undefined {
    return this.target.isTTY;
  }

  get columns(): number | undefined {
    return this.target.columns;
  }

  /** What a write of `text` prints. */
  clean(text: string): string {
    return escapeControl(this.secrets.scrub(text));
  }

  /** Our own terminal sequences: scrubbed of secrets, control characters kept. */
  raw(text: string): void {
    this.target.write(this.secrets.scrub(text));
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    // Passed on synchronously, so writes through `raw` stay in order with these.
    const text = typeof chunk === "string" ? chunk : this.decoder.write(chunk as Buffer);
    if (text !== "") this.target.write(this.clean(text));
    done();
  }
}

/** Writes the tool's own terminal output (e.g. readline's echo of a prompt) without escaping its sequences. */
export function writeRaw(stream: NodeJS.WritableStream, chunk: string | Uint8Array): void {
  if (stream instanceof SafeOutput) stream.raw(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
  else stream.write(chunk);
}

/** Draws the one-line status (progress) on a terminal: `\r`, the text (cleaned as any write), `ESC[K`. */
export function drawStatusLine(stream: NodeJS.WritableStream, text: string): void {
  if (stream instanceof SafeOutput) stream.raw(`\r${stream.clean(text)}\x1b[K`);
  else stream.write(`\r${escapeControl(scrubShapes(text))}\x1b[K`);
}

/** Clears the status line drawn by `drawStatusLine`. */
export function clearStatusLine(stream: NodeJS.WritableStream): void {
  writeRaw(stream, "\r\x1b[K");
}
