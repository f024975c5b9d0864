/**
 * Run logs sent to a page (Show log on the Sync page, Open on Diagnostics) without holding them in memory: each file
 * is read in chunks and split into lines, each line scrubbed and written as it comes, waiting when the connection
 * is slow. At most `maxBytes` are sent per request; a longer log ends with a `# truncated: …` line naming the file.
 *
 * The body (text/plain) is the log's lines, one JSON object each, then notes for people on lines that start with
 * `# ` (a log line always starts with `{`): the files the lines came from, a truncation, or why there is no log.
 */
import type { ServerResponse } from "node:http";
import { isPublisherError } from "../core/errors.js";
import { formatLimit, openRegularFile } from "../platform/fs.js";

/** Bytes of log sent per request (limits.md); the rest stays in the file. */
export const LOG_SEND_MAX_BYTES = 8 * 1024 * 1024;
/** A longer line is cut here (a run log's lines are far shorter); reading stays bounded whatever the file holds. */
export const LOG_LINE_MAX_CHARS = 64 * 1024;

/** Lines of `handle`'s file, read 64 KiB at a time; a line longer than LOG_LINE_MAX_CHARS is cut and marked. */
async function* lines(path: string): AsyncGenerator<string> {
  const { handle } = await openRegularFile({ path, what: "run log" });
  const stream = handle.createReadStream({ encoding: "utf8", highWaterMark: 64 * 1024 });
  let part = "";
  let cut = false;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0;
      for (let nl = chunk.indexOf("\n"); nl !== -1; nl = chunk.indexOf("\n", start)) {
        const line = cut ? part : part + chunk.slice(start, nl);
        yield line.length > LOG_LINE_MAX_CHARS || cut ? `${line.slice(0, LOG_LINE_MAX_CHARS)}… (line cut)` : line;
        part = "";
        cut = false;
        start = nl + 1;
      }
      if (!cut) {
        part += chunk.slice(start);
        if (part.length > LOG_LINE_MAX_CHARS) cut = true;
      }
    }
    if (part !== "") yield cut ? `${part.slice(0, LOG_LINE_MAX_CHARS)}… (line cut)` : part;
  } finally {
    stream.destroy();
    await handle.close().catch(() => undefined);
  }
}

/** A log to send: the file, and the window of its lines that belong (by their `time`), if any. */
export interface LogSource {
  path: string;
  /** epoch ms: only the lines stamped in [from, to] (a file is written in time order: reading stops after `to`) */
  window?: { from: number; to: number };
}

/** Starts a text/plain answer of log lines. */
export function startLogResponse(res: ServerResponse): void {
  res.statusCode = 200;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("X-Content-Type-Options", "nosniff");
}

/** Writes `text`, waiting for the connection to drain when its buffer is full; false when the page went away. */
async function write(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(text)) return true;
  await new Promise<void>((done) => {
    const go = () => {
      res.off("drain", go);
      res.off("close", go);
      done();
    };
    res.on("drain", go);
    res.on("close", go);
  });
  return !res.destroyed;
}

/**
 * Streams the lines of `sources` (each scrubbed by `scrub`) to `res`, then a `# from FILE` line per file that gave
 * lines, and ends it. Returns how many lines were sent.
 */
export async function streamLogs(
  res: ServerResponse,
  sources: readonly LogSource[],
  scrub: (line: string) => string,
  maxBytes = LOG_SEND_MAX_BYTES,
): Promise<number> {
  let sent = 0;
  let count = 0;
  const from: string[] = [];
  let truncatedAt: string | undefined;
  outer: for (const s of sources) {
    let found = false;
    try {
      for await (const raw of lines(s.path)) {
        if (s.window !== undefined) {
          const time = /^\{"time":"([^"]+)"/.exec(raw)?.[1];
          const t = time === undefined ? NaN : Date.parse(time);
          if (t > s.window.to) break;
          if (!(t >= s.window.from)) continue;
        }
        if (raw === "") continue;
        const line = `${scrub(raw)}\n`;
        const bytes = Buffer.byteLength(line);
        if (sent + bytes > maxBytes) {
          truncatedAt = s.path;
          if (found) from.push(s.path);
          break outer;
        }
        if (!found) found = true;
        sent += bytes;
        count++;
        if (!(await write(res, line))) return count;
      }
    } catch (e) {
      // a log rotated away meanwhile, or unreadable: said, and the others still sent
      if (!isPublisherError(e)) throw e;
      if (!(await write(res, `# ${scrub(e.message)}\n`))) return count;
    }
    if (found) from.push(s.path);
  }
  for (const f of from) await write(res, `# from ${f}\n`);
  if (truncatedAt !== undefined)
    await write(
      res,
      `# truncated: at most ${formatLimit(maxBytes)} of log are shown; open the file ${truncatedAt} for the rest\n`,
    );
  res.end();
  return count;
}
