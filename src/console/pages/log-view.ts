/**
 * A run log in the page (Show log on Sync and publish, Open on Diagnostics): the text the server streams (api.ts
 * LogText: the log's lines, then notes on lines starting with "# "), the lines in a focusable block, the notes below.
 */
import type { ErrorResponse, LogText } from "../api.js";
import { ApiError, h, notice } from "./dom.js";
import type { El } from "./dom.js";

/** GET `path` as a log: the lines and the server's notes; an error answer becomes an ApiError. */
export async function fetchLog(path: string): Promise<{ lines: string[]; notes: string[] }> {
  const res = await fetch(path, { method: "GET" });
  if (!res.ok) {
    const e = ((await res.json()) as ErrorResponse).error;
    throw new ApiError(e.code, e.message, e.hint);
  }
  const text: LogText = await res.text();
  const lines: string[] = [];
  const notes: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("# ")) notes.push(line.slice(2));
    else if (line !== "") lines.push(line);
  }
  return { lines, notes };
}

/** The heading (focused by the caller), the lines, the notes; `empty`: what to say when there is no line. */
export function logView(id: string, title: string, log: { lines: string[]; notes: string[] }, empty: string): El[] {
  const from = log.notes.filter((n) => n.startsWith("from ")).map((n) => n.slice(5));
  const others = log.notes.filter((n) => !n.startsWith("from "));
  return [
    h("h3", { id: `${id}-h`, tabindex: "-1" }, title),
    ...(log.lines.length === 0 && others.length === 0 ? [h("p", {}, empty)] : []),
    ...(log.lines.length === 0
      ? []
      : [h("pre", { id: `${id}-lines`, "aria-labelledby": `${id}-h`, tabindex: "0" }, log.lines.join("\n"))]),
    ...others.map((n) => notice("info", n)),
    ...(from.length === 0
      ? []
      : [h("p", {}, "From ", ...from.flatMap((f, i) => [...(i === 0 ? [] : [", "]), h("code", {}, f)]))]),
  ];
}
