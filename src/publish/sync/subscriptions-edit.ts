/**
 * Editing a subscriptions file (the console's Catalog page): one product's subscription is added or changed in the
 * YAML document, keeping the rest of the file and its comments (yaml's Document API); the new text is checked exactly
 * as `sync` reads it (`checkSubscriptionsText`, positioned problems) and only then replaces the file, through a
 * temporary file and a rename, so a refused edit leaves the file as it was and a crash never leaves half a file.
 */
import { randomUUID } from "node:crypto";
import { realpath, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { isMap, isSeq, parseDocument } from "yaml";
import type { YAMLMap } from "yaml";
import { showProduct } from "../../catalog/catalog.js";
import type { CatalogSource } from "../../catalog/catalog.js";
import { definitionIdFor } from "../../catalog/to-definition.js";
import { AppDefinitionError } from "../../core/app-definition/errors.js";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { readBoundedText } from "../../platform/fs.js";
import type { AppRow } from "../apps.js";
import { checkSubscriptionsText, SUBSCRIPTIONS_MAX_BYTES } from "./subscriptions.js";
import type { LoadedSubscriptions, Subscription } from "./subscriptions.js";

/** One product's subscription as a form gives it; values are written as given and checked by the file's schema. */
export interface SubscriptionEdit {
  id: string;
  /** the catalog source (written for a new subscription only) */
  source?: string | undefined;
  architecture?: "x64" | "x86" | "arm64" | undefined;
  scope?: "machine" | "user" | undefined;
  mode: string;
  /** empty: no assignments key (the app is published unassigned, or through `targeting`) */
  assignments: { intent: string; target?: string | undefined; group?: string | undefined }[];
  strategy?: string | undefined;
  keep?: number | undefined;
  pin?: string | undefined;
  installCommand?: string | undefined;
  uninstallCommand?: string | undefined;
}

const NEW_FILE =
  "# Catalog products this tenant keeps up to date with `intune-publisher sync` (docs/sync.md).\nproducts: []\n";

async function currentText(path: string): Promise<string | undefined> {
  try {
    return await readBoundedText({ path, what: "subscriptions file", maxBytes: SUBSCRIPTIONS_MAX_BYTES });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound") return undefined;
    throw e;
  }
}

function sameProduct(item: YAMLMap, e: SubscriptionKey): boolean {
  const text = (k: string, d: string): string => {
    const v: unknown = item.get(k);
    return typeof v === "string" ? v : d;
  };
  return (
    text("id", "").toLowerCase() === e.id.toLowerCase() &&
    text("architecture", "x64") === (e.architecture ?? "x64") &&
    text("scope", "machine") === (e.scope ?? "machine")
  );
}

/** The file's text with `e` applied (the product added at the end, or its keys changed in place). */
export function applySubscriptionEdit(text: string, e: SubscriptionEdit): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return text; // the check reports the syntax error with its position
  let products = doc.get("products", true);
  if (!isSeq(products)) {
    products = doc.createNode([]);
    doc.set("products", products);
  }
  if (!isSeq(products)) return text;
  products.flow = false;
  let item = products.items.find((i): i is YAMLMap => isMap(i) && sameProduct(i, e));
  if (item === undefined) {
    item = doc.createNode({
      id: e.id,
      ...(e.source === undefined ? {} : { source: e.source }),
      ...(e.architecture === undefined || e.architecture === "x64" ? {} : { architecture: e.architecture }),
      ...(e.scope === undefined || e.scope === "machine" ? {} : { scope: e.scope }),
    });
    products.items.push(item);
  }
  const put = (key: string, value: unknown): void => {
    if (value === undefined) item.delete(key);
    else item.set(key, value);
  };
  put("mode", e.mode);
  put("strategy", e.strategy);
  put("keep", e.keep);
  put("pin", e.pin);
  put(
    "assignments",
    e.assignments.length === 0
      ? undefined
      : doc.createNode(
          e.assignments.map((a) => ({
            intent: a.intent,
            ...(a.target === undefined ? {} : { target: a.target }),
            ...(a.group === undefined ? {} : { group: a.group }),
          })),
        ),
  );
  for (const [key, value] of [
    ["install", e.installCommand],
    ["uninstall", e.uninstallCommand],
  ] as const) {
    if (value !== undefined) item.setIn(["overrides", key, "command"], value);
    else if (isMap(item.get("overrides", true))) item.deleteIn(["overrides", key]);
  }
  const overrides = item.get("overrides", true);
  if (isMap(overrides) && overrides.items.length === 0) item.delete("overrides");
  return doc.toString({ lineWidth: 0 });
}

/**
 * Adds or changes one product in the subscriptions file `file` (created when absent). The new text is checked as
 * `sync` reads it: an AppDefinitionError with file:line:column positions (of the text that would have been written)
 * when it is refused, and then the file is not touched.
 */
export async function saveSubscription(file: string, e: SubscriptionEdit): Promise<LoadedSubscriptions> {
  if (!/\.(ya?ml)$/i.test(file))
    throw new PublisherError("Usage", `${file}: a subscriptions file written here is a .yaml or .yml file.`, {
      hint: "Name a .yaml file (docs/sync.md).",
    });
  // A link is followed: the file it points at is the one replaced.
  const path = await realpath(file).catch(() => resolve(file));
  const before = await currentText(path);
  return replaceChecked(path, applySubscriptionEdit(before ?? NEW_FILE, e));
}

/** The product a removal names: its id (any case), architecture and scope (defaults x64, machine). */
export interface SubscriptionKey {
  id: string;
  architecture?: string | undefined;
  scope?: string | undefined;
}

/** The file's text without product `k` (the rest and its comments kept); undefined when `k` is not in it. */
export function removeSubscriptionText(text: string, k: SubscriptionKey): string | undefined {
  const doc = parseDocument(text);
  const products = doc.errors.length > 0 ? undefined : doc.get("products", true);
  if (!isSeq(products)) return undefined;
  const i = products.items.findIndex((item) => isMap(item) && sameProduct(item, k));
  if (i < 0) return undefined;
  products.items.splice(i, 1);
  return doc.toString({ lineWidth: 0 });
}

/**
 * Removes product `k` from the subscriptions file (unsubscribe): the rest of the file and its comments kept, the
 * result checked as `sync` reads it before it replaces the file. A product not in the file is refused (exit 9),
 * the file untouched.
 */
export async function removeSubscription(file: string, k: SubscriptionKey): Promise<LoadedSubscriptions> {
  const path = await realpath(file).catch(() => resolve(file));
  const before = await currentText(path);
  if (before === undefined)
    throw new PublisherError("SubscriptionsNotFound", `${file}: there is no subscriptions file here.`, {
      hint: "Check the Subscriptions file field.",
    });
  const text = removeSubscriptionText(before, k);
  if (text === undefined) {
    const where = `${k.architecture ?? "x64"}, ${k.scope ?? "machine"}`;
    throw new AppDefinitionError([
      {
        path: ["products"],
        message: `${k.id} (${where}) is not subscribed in this file: nothing was removed.`,
        file: path,
        line: 1,
        column: 1,
      },
    ]);
  }
  return replaceChecked(path, text);
}

/** Checks `text` as `sync` reads it, then replaces the file with it (temporary file and rename). */
async function replaceChecked(path: string, text: string): Promise<LoadedSubscriptions> {
  const loaded = checkSubscriptionsText(text, path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    await writeFile(tmp, text, { flag: "wx" });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return loaded;
}

/** A subscribed product: the version the catalog offers now against the one the tenant has (as `sync --dry-run` plans). */
export interface SubscriptionStatus {
  id: string;
  architecture: string;
  scope: string;
  mode: string;
  strategy: string;
  pin: string | undefined;
  /** the catalog's newest (or the pinned) version; null when the catalog says it only after a download */
  newest: string | null;
  /** the current app's version in the tenant, when published */
  published: string | undefined;
  appId: string | undefined;
  /** "up to date", "new version", "not published", or why the catalog could not say */
  state: string;
}

/** Products whose newest version is asked of the catalog at once (the Catalog page's table). */
export const STATUS_CONCURRENCY = 4;

export async function subscriptionStatuses(
  subscriptions: LoadedSubscriptions,
  sourceFor: (spec: string | undefined) => Promise<CatalogSource>,
  apps: readonly AppRow[],
): Promise<SubscriptionStatus[]> {
  const products = subscriptions.value.products;
  const out = new Array<SubscriptionStatus>(products.length);
  // A few products at once: each asks the catalog (an index, manifests) over the network.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < products.length) {
      const i = next++;
      out[i] = await statusOf(products[i]!, subscriptions, sourceFor, apps);
    }
  };
  await Promise.all(Array.from({ length: Math.min(STATUS_CONCURRENCY, products.length) }, worker));
  return out;
}

async function statusOf(
  s: Subscription,
  subscriptions: LoadedSubscriptions,
  sourceFor: (spec: string | undefined) => Promise<CatalogSource>,
  apps: readonly AppRow[],
): Promise<SubscriptionStatus> {
  const definitionId = definitionIdFor(s.id, s.architecture, s.scope);
  const app = apps.find((a) => a.definitionId === definitionId && a.status === "current");
  const base = {
    id: s.id,
    architecture: s.architecture,
    scope: s.scope,
    mode: s.mode,
    strategy: s.strategy,
    pin: s.pin,
    published: app?.displayVersion,
    appId: app?.appId,
  };
  try {
    const source = await sourceFor(s.source ?? subscriptions.value.source);
    const show = await showProduct(source, s.id, {
      architecture: s.architecture,
      scope: s.scope,
      ...(s.pin === undefined ? {} : { version: s.pin }),
    });
    const state =
      app === undefined
        ? "not published"
        : show.version === null
          ? "the version is known after the download"
          : show.version === app.displayVersion
            ? "up to date"
            : "new version";
    return { ...base, newest: show.version, state };
  } catch (e) {
    if (!isPublisherError(e) || e.kind === "internal") throw e;
    return { ...base, newest: null, state: e.message };
  }
}
