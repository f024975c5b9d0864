/**
 * The local tenant's vendor download host: its own HTTPS listener on loopback, with the local tenant's CA, serving
 * what a catalog reads on the Internet — a winget-layout manifest mirror with an `index.v2.json`, the installer
 * files, a JSON and an XML "latest version" feed per product and a GitHub-style latest release — from a seed, with
 * faults (wrong bytes, truncated body, 404 or any status, redirect loop or chain, slow body, no Range, no length,
 * changed file) and an admin API (publish a version at run time, faults, request log, reset). docs/emulator.md
 * "Vendor host".
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { stat } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { PublisherError } from "../../src/core/errors.js";
import { readBoundedFile } from "../../src/platform/fs.js";
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { readBody, sendJson } from "../http.js";
import { loadOrCreatePki } from "../pki.js";
import type { Pki } from "../pki.js";
import { bytesBody, fileBody, flipFirstByte, generatedBody, sha256Of, storedZip, withSuffix } from "./content.js";
import type { Body } from "./content.js";
import { VendorFaults } from "./faults.js";
import {
  compareWingetVersions,
  finishMirroredVersion,
  generatedFileName,
  indexDate,
  loadMirror,
  manifestFolder,
  mirroredFileName,
  renderProductVersion,
} from "./manifests.js";
import type { IndexEntry, ServedInstaller } from "./manifests.js";
import { loadVendorSeedFile, parseProduct, parseVendorSeed, seedPath } from "./seed.js";
import type {
  Content,
  Product,
  ProductInput,
  VendorFault,
  VendorFaultInput,
  VendorSeed,
  VendorSeedInput,
} from "./seed.js";

export interface VendorHostOptions {
  /** a parsed seed, a seed object (paths relative to the current folder), or a YAML/JSON seed file; default empty */
  seed?: VendorSeed | VendorSeedInput | string;
  /** the local tenant's CA and server certificate (`startLocalTenant`'s PKI); default: a new one in memory */
  ca?: Pick<Pki, "caCertPem" | "serverCertPem" | "serverKeyPem">;
  /** 0 or absent = ephemeral */
  port?: number;
  /** loopback only: 127.0.0.1 (default) or localhost */
  host?: string;
  /** also listen on plain HTTP (loopback, ephemeral port), for http:// URLs a hash pins */
  plainHttp?: boolean;
  clock?: Clock;
}

export interface InstallerInfo {
  id: string;
  version: string;
  index: number;
  architecture: string;
  type: string;
  scope: string | undefined;
  fileName: string;
  url: string;
  sha256: string;
  size: number;
}

export interface VendorRequest {
  method: string;
  /** path and query */
  url: string;
  /** false on the plain-HTTP listener */
  secure: boolean;
  range: string | undefined;
  ifRange: string | undefined;
  status: number;
  /** body bytes written (less than announced when truncated) */
  bytesSent: number;
  /** fault kinds that applied */
  faults: string[];
}

export interface PackageSummary {
  id: string;
  name: string;
  latest: string;
  versions: string[];
}

export interface VendorAdmin {
  /** publishes a product, or new versions of one already served (the index's Version and LastUpdate follow) */
  publish(product: ProductInput): Promise<InstallerInfo[]>;
  addFault(fault: VendorFaultInput): string;
  listFaults(): { id: string; fault: VendorFault; remaining: number | null }[];
  clearFaults(): void;
  /** every request answered so far (admin calls excepted), oldest first */
  requests(): VendorRequest[];
  clearRequests(): void;
  /** back to the seed: products published at run time, faults and the request log are dropped */
  reset(): Promise<void>;
  /** an installer served (`version` default the latest, `index` default 0) */
  installer(id: string, version?: string, index?: number): InstallerInfo;
  packages(): PackageSummary[];
  readonly seed: VendorSeed;
}

export interface VendorHost {
  /** https://127.0.0.1:PORT; the winget source's base URL */
  origin: string;
  /** http://127.0.0.1:PORT with `plainHttp` */
  httpOrigin: string | undefined;
  /** `${origin}/index.v2.json` */
  indexUrl: string;
  caCertPem: string;
  admin: VendorAdmin;
  close(): Promise<void>;
}

const ADMIN_PREFIX = "/_vendor/";
/** A file put into a served zip is read whole: test fixtures are small. */
const MAX_ZIPPED_FILE = 64 * 1024 * 1024;
const CHANGED_SUFFIX = Buffer.from("CHANGED-AT-URL!\n");
const CHANGED_LATER_MS = 60_000;

interface Resource {
  body: Body;
  etag: string;
  lastModified: Date;
  contentType: string;
  /** set for installers: what product faults match */
  product?: string;
  version?: string;
}

interface HostedInstaller extends InstallerInfo {
  path: string;
  resource: Resource;
}

interface HostedVersion {
  version: string;
  releaseDate: string | undefined;
  installers: HostedInstaller[];
  files: Map<string, string>;
}

interface HostedPackage {
  id: string;
  name: string;
  tags: string[];
  lastUpdate: Date;
  versions: Map<string, HostedVersion>;
}

/** The address to listen on: loopback only (the admin API has no authentication). */
export function vendorListenAddress(host: string | undefined): string {
  if (host === undefined || ["127.0.0.1", "localhost"].includes(host.toLowerCase())) return "127.0.0.1";
  throw new PublisherError(
    "NotLoopback",
    `The vendor host listens on loopback only, not on ${JSON.stringify(host)}: its admin API (/_vendor/) has no authentication.`,
    { hint: "Use 127.0.0.1 (the default) or localhost." },
  );
}

async function resolveSeed(seed: VendorHostOptions["seed"]): Promise<VendorSeed> {
  if (seed === undefined) return parseVendorSeed({});
  if (typeof seed === "string") return loadVendorSeedFile(seed);
  if ("baseDir" in seed && typeof seed.baseDir === "string") {
    // a parsed seed (or one naming its folder): the folder is an option, not a key of the seed
    const { baseDir, ...rest } = seed;
    return parseVendorSeed(rest, { baseDir });
  }
  return parseVendorSeed(seed);
}

const enc = encodeURIComponent;
/** `path` with each segment percent-decoded (a malformed escape stays as it is). */
function decodedPath(path: string): string {
  return path
    .split("/")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join("/");
}
const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
};
const strongEtag = (hex: string): string => `"${hex.slice(0, 32)}"`;
const httpDate = (d: Date): string => d.toUTCString();

/**
 * A conditional GET or HEAD answered 304 (RFC 9110 §13.1.2, §13.1.3, §13.2.2): If-None-Match first, compared weakly
 * (`W/` ignored; `*` matches any current file); If-Modified-Since only without If-None-Match, when its date parses,
 * at one-second resolution (HTTP dates have no finer one).
 */
function notModified(req: IncomingMessage, etag: string, lastModified: Date): boolean {
  const inm = header(req, "if-none-match");
  if (inm !== undefined) {
    if (inm.trim() === "*") return true;
    const opaque = (t: string): string => t.replace(/^W\//, "");
    return (inm.match(/(?:W\/)?"[^"]*"/g) ?? []).some((t) => opaque(t) === opaque(etag));
  }
  const ims = header(req, "if-modified-since");
  const since = ims === undefined ? Number.NaN : Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
}

/** Sizes and hashes of content already read (a reset or a re-published fixture is not hashed again). */
class ContentCache {
  private readonly known = new Map<string, { sha256: string; size: number }>();
  constructor(private readonly seed: VendorSeed) {}

  async body(content: Content, what: string): Promise<{ body: Body; sha256: string }> {
    let body: Body;
    let key: string | undefined;
    if ("path" in content) {
      const path = seedPath(this.seed, content.path);
      body = await fileBody(path, what);
      const s = await stat(path);
      key = `file:${path}:${s.size}:${s.mtimeMs}`;
    } else if ("zip" in content) {
      const files = [];
      for (const f of content.zip)
        files.push({
          name: f.name,
          bytes:
            "text" in f
              ? Buffer.from(f.text, "utf8")
              : await readBoundedFile({
                  path: seedPath(this.seed, f.path),
                  what: `${what}: ${f.name}`,
                  maxBytes: MAX_ZIPPED_FILE,
                }),
        });
      body = bytesBody(storedZip(files));
    } else if ("text" in content) body = bytesBody(Buffer.from(content.text, "utf8"));
    else if ("base64" in content) body = bytesBody(Buffer.from(content.base64, "base64"));
    else {
      body = generatedBody(content.generate.seed, content.generate.bytes);
      key = `gen:${content.generate.bytes}:${content.generate.seed}`;
    }
    const hit = key === undefined ? undefined : this.known.get(key);
    if (hit !== undefined && hit.size === body.size) return { body, sha256: hit.sha256 };
    const sha256 = await sha256Of(body);
    if (key !== undefined) this.known.set(key, { sha256, size: body.size });
    return { body, sha256 };
  }
}

function staticResource(text: string, contentType: string, lastModified: Date): Resource {
  const bytes = Buffer.from(text, "utf8");
  return {
    body: bytesBody(bytes),
    etag: strongEtag(createHash("sha256").update(bytes).digest("hex")),
    lastModified,
    contentType,
  };
}

const xmlEscape = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

/** Parses one `bytes=` range against `size`: the range, "unsatisfiable", or undefined to ignore the header. */
function parseRange(header: string, size: number): { start: number; end: number } | "unsatisfiable" | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

export async function startVendorHost(options: VendorHostOptions = {}): Promise<VendorHost> {
  const address = vendorListenAddress(options.host);
  const seed = await resolveSeed(options.seed);
  const clock = options.clock ?? systemClock;
  const pki = options.ca ?? (await loadOrCreatePki());
  const cache = new ContentCache(seed);
  const faults = new VendorFaults();
  let log: VendorRequest[] = [];
  let origin = "";
  let httpOrigin: string | undefined;

  let packages = new Map<string, HostedPackage>();
  let byPath = new Map<string, HostedInstaller>();
  let manifests = new Map<string, Resource>();
  let index: Resource | undefined;

  const latestOf = (p: HostedPackage): HostedVersion =>
    [...p.versions.values()].sort((a, b) => compareWingetVersions(b.version, a.version))[0]!;

  function rebuildIndex(): void {
    const rows: IndexEntry[] = [...packages.values()]
      .sort((a, b) => (a.id.toLowerCase() < b.id.toLowerCase() ? -1 : 1))
      .map((p) => ({
        Name: p.name,
        PackageId: p.id,
        Version: latestOf(p).version,
        Tags: p.tags,
        LastUpdate: indexDate(p.lastUpdate),
      }));
    index = staticResource(JSON.stringify(rows), "application/json; charset=utf-8", new Date(clock.now()));
  }

  async function hostInstaller(
    id: string,
    version: string,
    i: number,
    meta: { architecture: string; type: string; scope: string | undefined; fileName: string },
    content: Content,
    at: Date,
  ): Promise<HostedInstaller> {
    const { body, sha256 } = await cache.body(content, `installer of ${id} ${version}`);
    const path = `/dl/${enc(id)}/${enc(version)}/${i}/${enc(meta.fileName)}`;
    return {
      id,
      version,
      index: i,
      ...meta,
      path,
      url: `${origin}${path}`,
      sha256,
      size: body.size,
      resource: {
        body,
        etag: strongEtag(sha256),
        lastModified: at,
        contentType: "application/octet-stream",
        product: id,
        version,
      },
    };
  }

  function place(pkg: HostedPackage, hv: HostedVersion, at: Date): void {
    const key = pkg.id.toLowerCase();
    const existing = packages.get(key);
    const target = existing ?? pkg;
    target.versions.set(hv.version, hv);
    if (existing !== undefined) existing.lastUpdate = pkg.lastUpdate;
    packages.set(key, target);
    for (const inst of hv.installers) byPath.set(inst.path, inst);
    const folder = manifestFolder(pkg.id, hv.version);
    for (const [name, text] of hv.files)
      manifests.set(`/${folder}/${name}`, staticResource(text, "application/yaml; charset=utf-8", at));
  }

  async function addProduct(product: Product): Promise<InstallerInfo[]> {
    const at = new Date(clock.now());
    const existing = packages.get(product.id.toLowerCase());
    for (const v of product.versions)
      if (existing?.versions.has(v.version))
        throw new PublisherError("VersionExists", `${product.id} ${v.version} is already published.`, {
          hint: "Publish a new version number.",
        });
    const out: InstallerInfo[] = [];
    for (const v of product.versions) {
      const installers: HostedInstaller[] = [];
      for (const [i, inst] of v.installers.entries()) {
        const fileName = inst.fileName ?? generatedFileName(product.id, v.version, inst.architecture, inst.type);
        installers.push(
          await hostInstaller(
            product.id,
            v.version,
            i,
            { architecture: inst.architecture, type: inst.type, scope: inst.scope, fileName },
            inst.content,
            at,
          ),
        );
      }
      const served: ServedInstaller[] = installers.map((h) => ({ url: h.url, sha256: h.sha256 }));
      const hv: HostedVersion = {
        version: v.version,
        releaseDate: v.releaseDate,
        installers,
        files: renderProductVersion(product, v, served),
      };
      const lastUpdate = product.lastUpdate === undefined ? at : new Date(product.lastUpdate);
      place({ id: product.id, name: product.name, tags: product.tags, lastUpdate, versions: new Map() }, hv, at);
      out.push(...installers.map(info));
    }
    rebuildIndex();
    return out;
  }

  async function addMirrors(): Promise<void> {
    const at = new Date(clock.now());
    for (const mirror of seed.mirrors) {
      const folder = seedPath(seed, mirror.folder);
      for (const mv of await loadMirror(mirror, folder)) {
        if (packages.get(mv.id.toLowerCase())?.versions.has(mv.version))
          throw new PublisherError("VersionExists", `${mv.id} ${mv.version} is served twice (${folder}).`);
        const installers: HostedInstaller[] = [];
        for (const [i, inst] of mv.installers.entries()) {
          const content = mirror.content[inst.type as keyof typeof mirror.content] ?? mirror.content.default;
          if (content === undefined)
            throw new PublisherError(
              "InvalidVendorSeed",
              `The mirror ${folder} has a ${inst.type} installer (${mv.id} ${mv.version}) and no content for it.`,
              { hint: `Add content.${inst.type} or content.default to the mirror.` },
            );
          const fallback = generatedFileName(mv.id, mv.version, inst.architecture, inst.type);
          installers.push(
            await hostInstaller(
              mv.id,
              mv.version,
              i,
              {
                architecture: inst.architecture,
                type: inst.type,
                scope: inst.scope,
                fileName: mirroredFileName(inst.originalUrl, fallback),
              },
              content,
              at,
            ),
          );
        }
        const files = finishMirroredVersion(
          mv,
          installers.map((h) => ({ url: h.url, sha256: h.sha256 })),
        );
        place(
          { id: mv.id, name: mv.name ?? mv.id, tags: mv.tags, lastUpdate: at, versions: new Map() },
          { version: mv.version, releaseDate: mv.releaseDate, installers, files },
          at,
        );
      }
    }
  }

  async function load(): Promise<void> {
    packages = new Map();
    byPath = new Map();
    manifests = new Map();
    faults.clear();
    for (const f of seed.faults) faults.add(f);
    await addMirrors();
    for (const p of seed.products) await addProduct(p);
    rebuildIndex();
  }

  function info(h: HostedInstaller): InstallerInfo {
    const { path: _path, resource: _resource, ...rest } = h;
    return rest;
  }

  function findPackage(id: string): HostedPackage | undefined {
    return packages.get(id.toLowerCase());
  }

  function feedJson(p: HostedPackage): string {
    const v = latestOf(p);
    const first = v.installers[0]!;
    return JSON.stringify({
      id: p.id,
      name: p.name,
      version: v.version,
      ...(v.releaseDate === undefined ? {} : { releaseDate: v.releaseDate }),
      url: first.url,
      sha256: first.sha256,
      size: first.size,
      installers: v.installers.map((h) => ({
        architecture: h.architecture,
        type: h.type,
        ...(h.scope === undefined ? {} : { scope: h.scope }),
        url: h.url,
        sha256: h.sha256,
        size: h.size,
      })),
    });
  }

  function feedXml(p: HostedPackage): string {
    const v = latestOf(p);
    const rows = v.installers.map(
      (h) =>
        `  <download architecture="${xmlEscape(h.architecture)}" type="${xmlEscape(h.type)}" url="${xmlEscape(h.url)}" sha256="${h.sha256}" size="${h.size}"/>`,
    );
    return [
      '<?xml version="1.0" encoding="utf-8"?>',
      `<product id="${xmlEscape(p.id)}" name="${xmlEscape(p.name)}">`,
      `  <version>${xmlEscape(v.version)}</version>`,
      ...rows,
      "</product>",
      "",
    ].join("\n");
  }

  function githubRelease(p: HostedPackage): string {
    const v = latestOf(p);
    const [owner, ...repo] = p.id.split(".");
    return JSON.stringify({
      url: `${origin}/github/repos/${enc(owner!)}/${enc(repo.join("."))}/releases/latest`,
      tag_name: `v${v.version}`,
      name: `${p.name} ${v.version}`,
      draft: false,
      prerelease: false,
      published_at: p.lastUpdate.toISOString(),
      assets: v.installers.map((h) => ({
        name: h.fileName,
        size: h.size,
        content_type: "application/octet-stream",
        digest: `sha256:${h.sha256}`,
        browser_download_url: h.url,
      })),
    });
  }

  /** The resource a path names, with what faults match it. */
  function route(path: string): Resource | undefined {
    if (path === "/index.v2.json") return index;
    // A client percent-encodes ids such as Notepad++ (`%2B`), as raw.githubusercontent.com accepts: compare decoded.
    if (path.startsWith("/manifests/")) return manifests.get(decodedPath(path));
    if (path.startsWith("/dl/")) return byPath.get(path)?.resource;
    // a fixed URL: the newest version's first installer, whatever the last segment (`/latest/<id>/<name>`)
    const latest = /^\/latest\/([^/]+)\/[^/]+$/.exec(path);
    if (latest !== null) {
      const p = findPackage(decodeURIComponent(latest[1]!));
      return p === undefined ? undefined : latestOf(p).installers[0]?.resource;
    }
    const feed = /^\/feeds\/([^/]+)\.(json|xml)$/.exec(path);
    if (feed !== null) {
      const p = findPackage(decodeURIComponent(feed[1]!));
      if (p === undefined) return undefined;
      return feed[2] === "json"
        ? staticResource(feedJson(p), "application/json; charset=utf-8", p.lastUpdate)
        : staticResource(feedXml(p), "application/xml; charset=utf-8", p.lastUpdate);
    }
    const gh = /^\/github\/repos\/([^/]+)\/([^/]+)\/releases\/latest$/.exec(path);
    if (gh !== null) {
      const p = findPackage(`${decodeURIComponent(gh[1]!)}.${decodeURIComponent(gh[2]!)}`);
      return p === undefined
        ? undefined
        : staticResource(githubRelease(p), "application/json; charset=utf-8", p.lastUpdate);
    }
    return undefined;
  }

  /** Writes `src` to `res`, stopping after `limit` bytes (then closing the connection) and pacing to `rate`. */
  async function pump(
    res: ServerResponse,
    src: Readable,
    record: VendorRequest,
    limit: number | undefined,
    rate: number | undefined,
  ): Promise<void> {
    const closed = new Promise<void>((resolve) => res.once("close", resolve));
    const write = async (chunk: Buffer): Promise<boolean> => {
      if (res.destroyed) return false;
      const flushed = new Promise<void>((resolve) => res.write(chunk, () => resolve()));
      record.bytesSent += chunk.length;
      await Promise.race([flushed, closed]);
      return !res.destroyed;
    };
    const stop = (): void => {
      src.destroy();
      // Whatever was written reaches the client, then the connection ends short of the announced length.
      res.socket?.destroySoon();
    };
    try {
      for await (const c of src) {
        let chunk = c as Buffer;
        if (limit !== undefined && record.bytesSent + chunk.length >= limit) {
          chunk = chunk.subarray(0, limit - record.bytesSent);
          if (chunk.length > 0) await write(chunk);
          return stop();
        }
        if (rate === undefined) {
          if (!res.write(chunk)) await Promise.race([once(res, "drain"), closed]);
          record.bytesSent += chunk.length;
          if (res.destroyed) return void src.destroy();
          continue;
        }
        const step = Math.max(1, Math.min(16 * 1024, Math.floor(rate / 10)));
        for (let at = 0; at < chunk.length; at += step) {
          const piece = chunk.subarray(at, at + step);
          if (!(await write(piece))) return void src.destroy();
          await delay((piece.length / rate) * 1000);
        }
      }
      if (limit !== undefined && record.bytesSent >= limit) return stop();
      res.end();
    } catch {
      res.destroy();
    }
  }

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    secure: boolean,
    record: VendorRequest,
  ): Promise<void> {
    const method = req.method ?? "GET";
    let resource = route(url.pathname);
    const target = { path: url.pathname, product: resource?.product, version: resource?.version };
    const applied: Map<VendorFault["kind"], VendorFault> = resource === undefined ? new Map() : faults.take(target);
    record.faults = [...applied.keys()];
    const answer = (status: number, headers: Record<string, string> = {}, text = ""): void => {
      record.status = status;
      res.writeHead(status, { "Content-Length": Buffer.byteLength(text), ...headers });
      res.end(method === "HEAD" ? undefined : text);
    };
    if (resource === undefined) return answer(404, { "Content-Type": "text/plain" }, `No file at ${url.pathname}.\n`);
    if (method !== "GET" && method !== "HEAD") return answer(405, { Allow: "GET, HEAD" });
    if (applied.has("notFound")) return answer(404, { "Content-Type": "text/plain" }, "Not found (fault).\n");
    const status = applied.get("status") as Extract<VendorFault, { kind: "status" }> | undefined;
    if (status !== undefined)
      return answer(
        status.status,
        {
          "Content-Type": "text/plain",
          ...(status.retryAfter === undefined ? {} : { "Retry-After": String(status.retryAfter) }),
        },
        `HTTP ${status.status} (fault).\n`,
      );
    const here = secure ? origin : (httpOrigin ?? origin);
    if (applied.has("redirectLoop")) {
      const next = url.searchParams.get("redirect-loop") === "a" ? "b" : "a";
      return answer(302, { Location: `${here}${url.pathname}?redirect-loop=${next}` });
    }
    const hop = Number(url.searchParams.get("hop") ?? "0");
    const hops = Number(url.searchParams.get("hops") ?? "0");
    const redirect = applied.get("redirect") as Extract<VendorFault, { kind: "redirect" }> | undefined;
    if (redirect !== undefined && hop === 0) {
      const base = redirect.insecure ? (httpOrigin ?? origin.replace(/^https:/, "http:")) : origin;
      return answer(302, { Location: `${base}${url.pathname}?hop=1&hops=${redirect.hops}` });
    }
    if (hop > 0 && hop < hops) return answer(302, { Location: `${here}${url.pathname}?hop=${hop + 1}&hops=${hops}` });

    let etag = resource.etag;
    let lastModified = resource.lastModified;
    if (applied.has("changed")) {
      resource = { ...resource, body: withSuffix(resource.body, CHANGED_SUFFIX) };
      etag = `${etag.slice(0, -1)}-changed"`;
      lastModified = new Date(lastModified.getTime() + CHANGED_LATER_MS);
    }
    const body = applied.has("wrongBytes") ? flipFirstByte(resource.body) : resource.body;
    const ranges = !applied.has("noRange");
    const headers: Record<string, string> = {
      "Content-Type": resource.contentType,
      ETag: etag,
      "Last-Modified": httpDate(lastModified),
      ...(ranges ? { "Accept-Ranges": "bytes" } : {}),
    };
    if (notModified(req, etag, lastModified)) {
      record.status = 304;
      res.writeHead(304, { ETag: etag, "Last-Modified": headers["Last-Modified"]! });
      return void res.end();
    }
    let start = 0;
    let end = body.size - 1;
    let code = 200;
    const rangeHeader = req.headers.range;
    if (ranges && rangeHeader !== undefined) {
      const ifRange = header(req, "if-range");
      const current = ifRange === undefined || ifRange === etag || ifRange === httpDate(lastModified);
      const r = current ? parseRange(rangeHeader, body.size) : undefined;
      if (r === "unsatisfiable") return answer(416, { ...headers, "Content-Range": `bytes */${body.size}` });
      if (r !== undefined) {
        ({ start, end } = r);
        code = 206;
        headers["Content-Range"] = `bytes ${start}-${end}/${body.size}`;
      }
    }
    record.status = code;
    res.writeHead(code, applied.has("noLength") ? headers : { ...headers, "Content-Length": String(end - start + 1) });
    if (method === "HEAD") return void res.end();
    const truncate = applied.get("truncate") as Extract<VendorFault, { kind: "truncate" }> | undefined;
    const slow = applied.get("slow") as Extract<VendorFault, { kind: "slow" }> | undefined;
    const limit = truncate === undefined ? undefined : (truncate.afterBytes ?? Math.floor((end - start + 1) / 2));
    // The status line and headers go out even when the body is cut at 0 bytes.
    if (limit !== undefined) res.flushHeaders();
    await pump(res, body.stream(start, end), record, limit, slow?.bytesPerSecond);
  }

  const admin: VendorAdmin = {
    seed,
    publish: async (input) => addProduct(parseProduct(input)),
    addFault: (f) => faults.add(f),
    listFaults: () => faults.list(),
    clearFaults: () => faults.clear(),
    requests: () => log.map((r) => ({ ...r })),
    clearRequests: () => {
      log = [];
    },
    async reset() {
      log = [];
      await load();
    },
    installer(id, version, i = 0) {
      const p = findPackage(id);
      const v = p === undefined ? undefined : version === undefined ? latestOf(p) : p.versions.get(version);
      const h = v?.installers[i];
      if (h === undefined) throw new Error(`The vendor host serves no installer ${i} of ${id} ${version ?? ""}.`);
      return info(h);
    },
    packages: () =>
      [...packages.values()].map((p) => ({
        id: p.id,
        name: p.name,
        latest: latestOf(p).version,
        versions: [...p.versions.keys()].sort(compareWingetVersions),
      })),
  };

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method ?? "GET"} ${url.pathname.slice(ADMIN_PREFIX.length)}`;
    const bodyJson = async (): Promise<unknown> => {
      try {
        return JSON.parse((await readBody(req, 1024 * 1024)).toString("utf8"));
      } catch {
        return undefined;
      }
    };
    const bad = (e: unknown): void =>
      sendJson(res, e instanceof PublisherError && e.code === "VersionExists" ? 409 : 400, {
        error: { code: e instanceof PublisherError ? e.code : "BadRequest", message: (e as Error).message },
      });
    if (route === "GET packages") return sendJson(res, 200, admin.packages());
    if (route === "POST products") {
      try {
        return sendJson(res, 201, await admin.publish((await bodyJson()) as ProductInput));
      } catch (e) {
        return bad(e);
      }
    }
    if (route === "GET faults") return sendJson(res, 200, admin.listFaults());
    if (route === "POST faults") {
      try {
        return sendJson(res, 201, { id: admin.addFault((await bodyJson()) as VendorFaultInput) });
      } catch (e) {
        return bad(e);
      }
    }
    if (route === "DELETE faults") {
      admin.clearFaults();
      return sendJson(res, 204, undefined);
    }
    if (route === "GET requests") return sendJson(res, 200, admin.requests());
    if (route === "DELETE requests") {
      admin.clearRequests();
      return sendJson(res, 204, undefined);
    }
    if (route === "POST reset") {
      await admin.reset();
      return sendJson(res, 204, undefined);
    }
    return sendJson(res, 404, { error: { code: "NotFound", message: `No admin route ${route}.` } });
  }

  const handler =
    (secure: boolean) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      const url = new URL(req.url ?? "/", "https://127.0.0.1");
      void (async () => {
        try {
          if (url.pathname.startsWith(ADMIN_PREFIX)) return await handleAdmin(req, res, url);
          const record: VendorRequest = {
            method: req.method ?? "GET",
            url: url.pathname + url.search,
            secure,
            range: req.headers.range,
            ifRange: header(req, "if-range"),
            status: 0,
            bytesSent: 0,
            faults: [],
          };
          log.push(record);
          await serve(req, res, url, secure, record);
        } catch (e) {
          if (!res.headersSent)
            sendJson(res, 500, {
              error: { code: "InternalServerError", message: `Vendor host bug: ${(e as Error).message}` },
            });
          else res.destroy();
        }
      })();
    };

  const servers: Server[] = [];
  const listen = async (server: Server): Promise<number> => {
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(servers.length === 1 ? (options.port ?? 0) : 0, address, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  };
  const closeAll = async (): Promise<void> => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  };
  try {
    origin = `https://127.0.0.1:${await listen(createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, handler(true)))}`;
    if (options.plainHttp) httpOrigin = `http://127.0.0.1:${await listen(createHttpServer(handler(false)))}`;
    await load();
  } catch (e) {
    await closeAll();
    throw e;
  }

  return {
    origin,
    httpOrigin,
    indexUrl: `${origin}/index.v2.json`,
    caCertPem: pki.caCertPem,
    admin,
    close: closeAll,
  };
}
