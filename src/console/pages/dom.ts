/**
 * The part of the browser the pages use, typed here: the project compiles for Node (no DOM library, which would
 * retype fetch and Buffer for the whole program), so the pages declare the DOM they touch. fetch, Response,
 * URLSearchParams and JSON come from the shared types. Also: `h` (build elements), `api` (JSON calls with the CSRF
 * header) and small shared widgets.
 */
import type { ErrorResponse } from "../api.js";

export interface Ev {
  preventDefault(): void;
  readonly target: unknown;
  readonly key?: string;
}

export interface El {
  id: string;
  textContent: string | null;
  hidden: boolean;
  className: string;
  readonly dataset: Record<string, string | undefined>;
  readonly children: ArrayLike<El>;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  removeAttribute(name: string): void;
  append(...nodes: (El | string)[]): void;
  replaceChildren(...nodes: (El | string)[]): void;
  addEventListener(type: string, listener: (e: Ev) => void, options?: { signal?: AbortSignal }): void;
  querySelector(selectors: string): El | null;
  querySelectorAll(selectors: string): ArrayLike<El>;
  focus(): void;
  remove(): void;
  closest(selectors: string): El | null;
}

export interface FormControl extends El {
  value: string;
  checked: boolean;
  disabled: boolean;
  readOnly: boolean;
  name: string;
}

export interface Dialog extends El {
  showModal(): void;
  close(): void;
  readonly open: boolean;
}

interface EventSourceLike {
  onmessage: ((e: { data: string }) => void) | null;
  onerror: (() => void) | null;
  addEventListener(type: string, listener: (e: { data: string }) => void): void;
  close(): void;
}

interface BrowserWindow {
  document: {
    title: string;
    querySelector(selectors: string): El | null;
    createElement(tag: string): El;
  };
  location: { pathname: string; search: string };
  EventSource: new (url: string) => EventSourceLike;
  performance: { now(): number };
  requestAnimationFrame(fn: () => void): number;
}

export const win = globalThis as unknown as BrowserWindow;
export const doc = win.document;

type Attrs = Record<string, string | boolean | undefined>;
type Child = El | string | undefined | false;

/** An element: `h("button", { type: "button" }, "Save")`. `true` sets an empty attribute, false/undefined none. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): El {
  const el = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== undefined && c !== false) el.append(c);
  return el;
}

export function byId<T extends El = El>(id: string): T {
  const el = doc.querySelector(`#${id}`);
  if (el === null) throw new Error(`No element #${id}.`);
  return el as T;
}

/** An API error: the CLI's message and fix. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string | undefined,
  ) {
    super(message);
  }
}

function csrfToken(): string {
  return doc.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
}

/** GET (no body) or POST (JSON body, with the CSRF header) on the console's API. */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  const init =
    body === undefined
      ? { method: "GET" }
      : {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
          body: JSON.stringify(body),
        };
  const res = await fetch(path, init);
  const data = (await res.json()) as unknown;
  if (!res.ok) {
    const e = (data as ErrorResponse).error;
    throw new ApiError(e.code, e.message, e.hint);
  }
  return data as T;
}

/** A message box: role alert for errors (read at once), status otherwise. */
export function notice(kind: "error" | "ok" | "info", title: string, ...lines: (string | undefined)[]): El {
  return h(
    "div",
    { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("p", { class: "notice-title" }, title),
    ...lines.filter((l): l is string => l !== undefined && l !== "").map((l) => h("p", {}, l)),
  );
}

export function errorNotice(e: unknown): El {
  if (e instanceof ApiError) return notice("error", e.message, e.hint === undefined ? undefined : `Fix: ${e.hint}`);
  return notice("error", "The request failed.", e instanceof Error ? e.message : String(e));
}

/** A table with a caption and column headers. */
export function table(caption: string, head: string[], rows: (El | string)[][], attrs: Attrs = {}): El {
  return h(
    "table",
    attrs,
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
  );
}

/** The page's <main>, emptied but for its heading. */
export function mainArea(): El {
  const main = byId("main");
  main.querySelector(".loading")?.remove();
  return main;
}

/** A labelled form field, with its help text tied to the input by aria-describedby. */
export function field(id: string, label: string, input: El, help?: string): El {
  if (help !== undefined) input.setAttribute("aria-describedby", `${id}-help`);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    help === undefined ? undefined : h("p", { class: "help", id: `${id}-help` }, help),
  );
}

/** The confirmation dialog a page includes once (`askConfirm` fills and opens it). */
export function confirmDialogElement(title: string, ok: string): El {
  return h(
    "dialog",
    { id: "confirm", "aria-labelledby": "confirm-h" },
    h("h2", { id: "confirm-h" }, title),
    h("div", { id: "confirm-body" }),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", id: "confirm-ok", class: "danger" }, ok),
      h("button", { type: "button", id: "confirm-cancel" }, "Cancel"),
    ),
  );
}

/** Opens the confirmation dialog; true when the person presses `ok`, false on Cancel or Escape. */
export async function askConfirm(title: string, body: El[], ok: string): Promise<boolean> {
  const d = byId<Dialog>("confirm");
  byId("confirm-h").textContent = title;
  byId("confirm-body").replaceChildren(...body);
  byId("confirm-ok").textContent = ok;
  d.showModal();
  byId("confirm-cancel").focus();
  // the listeners go with the answer, so repeated confirmations do not pile them up
  const listening = new AbortController();
  const options = { signal: listening.signal };
  const choice = await new Promise<boolean>((resolve) => {
    byId("confirm-ok").addEventListener("click", () => resolve(true), options);
    byId("confirm-cancel").addEventListener("click", () => resolve(false), options);
    d.addEventListener("cancel", () => resolve(false), options);
  });
  listening.abort();
  d.close();
  return choice;
}
