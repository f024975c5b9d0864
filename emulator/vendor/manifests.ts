/**
 * The vendor host's winget side: where manifests live in the community layout, manifests generated for seeded
 * products (multi-file: version, defaultLocale, installer), real manifests mirrored from a folder with their
 * installer URLs and hashes rewritten, winget's version order (for the index's latest version) and the index.
 *
 * Facts used (winget-pkgs, MIT): the layout `manifests/<lower-case first letter>/<id with each "." a folder>/<version>/`;
 * file names `<id>.yaml` (version or singleton), `<id>.installer.yaml`, `<id>.locale.<tag>.yaml`; the index shape of
 * svrooij/winget-pkgs-index `index.v2.json`: a JSON array of `{Name, PackageId, Version, Tags, LastUpdate}`.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Document, isMap, isScalar, isSeq, parseDocument } from "yaml";
import type { YAMLMap } from "yaml";
import { PublisherError } from "../../src/core/errors.js";
import { readBoundedText } from "../../src/platform/fs.js";
import type { Mirror, Product } from "./seed.js";
import { PACKAGE_ID } from "./seed.js";

/** A real manifest is a few KiB; the largest in winget-pkgs are under 1 MiB. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;
/** Folder depth searched under a mirror's `manifests/` (an id has at most 8 parts, then the version). */
const MAX_DEPTH = 12;

/** `manifests/m/Microsoft/DotNet/DesktopRuntime/8/8.0.31` for Microsoft.DotNet.DesktopRuntime.8 8.0.31. */
export function manifestFolder(id: string, version: string): string {
  return ["manifests", id[0]!.toLowerCase(), ...id.split("."), version].join("/");
}

/** One part of a winget version: its leading number and the rest. */
function parts(v: string): { n: number; other: string }[] {
  let s = v.trim();
  if (/^[vV]\d/.test(s)) s = s.slice(1);
  const out = s.split(".").map((p) => {
    const m = /^(\d*)(.*)$/.exec(p.trim())!;
    return { n: m[1] === "" ? 0 : Number(m[1]), other: m[2]!.toLowerCase() };
  });
  while (out.length > 1 && out.at(-1)!.n === 0 && out.at(-1)!.other === "") out.pop();
  return out;
}

/**
 * Close to winget-cli's version order: dot-separated parts compared left to right, each by its leading number, then
 * by the rest (no text sorts after text: 1.0 > 1.0-beta; text compared case-insensitively); missing and trailing
 * zero parts count as 0. Only for the host's index (its latest version); the catalog has its own, complete one.
 */
export function compareWingetVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? { n: 0, other: "" };
    const y = pb[i] ?? { n: 0, other: "" };
    if (x.n !== y.n) return x.n < y.n ? -1 : 1;
    if (x.other !== y.other) {
      if (x.other === "") return 1;
      if (y.other === "") return -1;
      return x.other < y.other ? -1 : 1;
    }
  }
  return 0;
}

export interface ServedInstaller {
  url: string;
  sha256: string;
}

const HEADER = "# Served by the intune-publisher local tenant's vendor host (generated from its seed)\n";

function yamlText(obj: Record<string, unknown>, schema: string): string {
  const doc = new Document(obj);
  return `${HEADER}# yaml-language-server: $schema=https://aka.ms/winget-manifest.${schema}.json\n${doc.toString({ lineWidth: 0 })}`;
}

/** The three manifest files of a generated product version, by file name. */
export function renderProductVersion(
  product: Product,
  version: Product["versions"][number],
  installers: readonly ServedInstaller[],
): Map<string, string> {
  const id = product.id;
  const mv = version.manifestVersion;
  const ids = { PackageIdentifier: id, PackageVersion: version.version };
  const files = new Map<string, string>();
  files.set(
    `${id}.yaml`,
    yamlText({ ...ids, DefaultLocale: "en-US", ManifestType: "version", ManifestVersion: mv }, `version.${mv}`),
  );
  files.set(
    `${id}.locale.en-US.yaml`,
    yamlText(
      {
        ...ids,
        PackageLocale: "en-US",
        Publisher: product.publisher,
        PackageName: product.name,
        License: product.license,
        ShortDescription: product.shortDescription ?? product.name,
        ...(product.tags.length > 0 ? { Tags: product.tags } : {}),
        ...version.localeFields,
        ManifestType: "defaultLocale",
        ManifestVersion: mv,
      },
      `defaultLocale.${mv}`,
    ),
  );
  files.set(
    `${id}.installer.yaml`,
    yamlText(
      {
        ...ids,
        ...version.installerFields,
        ...(version.releaseDate === undefined ? {} : { ReleaseDate: version.releaseDate }),
        Installers: version.installers.map((inst, i) => ({
          Architecture: inst.architecture,
          InstallerType: inst.type,
          ...(inst.scope === undefined ? {} : { Scope: inst.scope }),
          InstallerUrl: installers[i]!.url,
          InstallerSha256: installers[i]!.sha256.toUpperCase(),
          ...inst.fields,
        })),
        ManifestType: "installer",
        ManifestVersion: mv,
      },
      `installer.${mv}`,
    ),
  );
  return files;
}

const EXTENSIONS: Record<string, string> = {
  msi: "msi",
  wix: "msi",
  zip: "zip",
  msix: "msix",
  appx: "appx",
  font: "ttf",
};

/** The served file name of a generated installer. */
export function generatedFileName(id: string, version: string, architecture: string, type: string): string {
  const stem = `${id}-${version}-${architecture}`.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${stem}.${EXTENSIONS[type] ?? "exe"}`;
}

/** A safe served name from a real installer URL's last path segment. */
export function mirroredFileName(url: string | undefined, fallback: string): string {
  let last = "";
  try {
    last = decodeURIComponent(new URL(url ?? "").pathname.split("/").at(-1) ?? "");
  } catch {
    last = "";
  }
  const safe = last
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .replace(/^[._-]+/, "")
    .slice(0, 128);
  return safe === "" ? fallback : safe;
}

/** One installer entry of a mirrored manifest, to be pointed at the host. */
export interface MirroredInstaller {
  node: YAMLMap;
  type: string;
  architecture: string;
  scope: string | undefined;
  originalUrl: string | undefined;
}

export interface MirroredVersion {
  id: string;
  version: string;
  folder: string;
  docs: { fileName: string; doc: Document }[];
  installers: MirroredInstaller[];
  name: string | undefined;
  tags: string[];
  releaseDate: string | undefined;
}

function manifestError(file: string, message: string): PublisherError {
  return new PublisherError("InvalidMirrorManifest", `The mirrored manifest ${file} ${message}`, {
    hint: "Mirror a folder laid out like winget-pkgs, with valid manifests.",
  });
}

async function yamlFilesByFolder(root: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      // Links are not followed: a mirror serves what lies in its folder.
      if (e.isDirectory()) await walk(join(dir, e.name), depth + 1);
      else if (e.isFile() && /\.ya?ml$/i.test(e.name)) {
        const list = out.get(dir) ?? [];
        list.push(e.name);
        out.set(dir, list);
      }
    }
  };
  await walk(root, 0);
  return out;
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;

/** The version folders of a winget-layout folder (`<folder>/manifests/…` or `<folder>` itself). */
export async function loadMirror(mirror: Mirror, folder: string): Promise<MirroredVersion[]> {
  let root = join(folder, "manifests");
  try {
    await readdir(root);
  } catch {
    root = folder;
  }
  let byFolder: Map<string, string[]>;
  try {
    byFolder = await yamlFilesByFolder(root);
  } catch (e) {
    throw new PublisherError("MirrorNotReadable", `Cannot read the mirror folder ${folder}: ${(e as Error).message}`, {
      cause: e,
      hint: "Check the path given as the mirror's folder.",
    });
  }
  const wanted = mirror.packages === undefined ? undefined : new Set(mirror.packages.map((p) => p.toLowerCase()));
  const versions: MirroredVersion[] = [];
  for (const [dir, names] of [...byFolder].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const docs: MirroredVersion["docs"] = [];
    let id: string | undefined;
    let version: string | undefined;
    for (const fileName of names.sort()) {
      const path = join(dir, fileName);
      const text = await readBoundedText({ path, what: "mirrored manifest", maxBytes: MANIFEST_MAX_BYTES });
      const doc = parseDocument(text);
      if (doc.errors.length > 0) throw manifestError(path, `is not valid YAML: ${doc.errors[0]!.message}`);
      if (!isMap(doc.contents)) throw manifestError(path, "is not a YAML mapping.");
      const fileId = str(doc.get("PackageIdentifier"));
      const fileVersion = str(doc.get("PackageVersion"));
      if (fileId === undefined || !PACKAGE_ID.test(fileId))
        throw manifestError(path, "has no valid PackageIdentifier.");
      if (fileVersion === undefined || fileVersion === "." || fileVersion === ".." || /[\\/]/.test(fileVersion))
        throw manifestError(path, "has no valid PackageVersion.");
      if ((id !== undefined && id !== fileId) || (version !== undefined && version !== fileVersion))
        throw manifestError(path, `names ${fileId} ${fileVersion}, unlike the other files of its folder.`);
      id = fileId;
      version = fileVersion;
      docs.push({ fileName, doc });
    }
    if (id === undefined || version === undefined) continue;
    if (wanted !== undefined && !wanted.has(id.toLowerCase())) continue;
    const installers: MirroredInstaller[] = [];
    let name: string | undefined;
    let tags: string[] = [];
    let releaseDate: string | undefined;
    for (const { fileName, doc } of docs) {
      const type = str(doc.get("ManifestType"));
      if (type === "defaultLocale" || type === "singleton") {
        name = str(doc.get("PackageName")) ?? name;
        const t = doc.get("Tags");
        if (isSeq(t))
          tags = t.items.map((x) => (isScalar(x) ? str(x.value) : undefined)).filter((x) => x !== undefined);
      }
      if (type !== "installer" && type !== "singleton") continue;
      releaseDate = str(doc.get("ReleaseDate")) ?? releaseDate;
      const list = doc.get("Installers");
      if (!isSeq(list)) throw manifestError(join(dir, fileName), "has no Installers list.");
      for (const item of list.items) {
        if (!isMap(item)) throw manifestError(join(dir, fileName), "has an installer that is not a mapping.");
        const pick = (key: string): string | undefined => str(item.get(key)) ?? str(doc.get(key));
        installers.push({
          node: item,
          type: pick("InstallerType") ?? "exe",
          architecture: pick("Architecture") ?? "neutral",
          scope: pick("Scope"),
          originalUrl: pick("InstallerUrl"),
        });
      }
      // Root-level URL and hash would be stale: every installer gets its own below.
      doc.delete("InstallerUrl");
      doc.delete("InstallerSha256");
    }
    versions.push({ id, version, folder: dir, docs, installers, name, tags, releaseDate });
  }
  return versions;
}

/** Points each installer of a mirrored version at the host, and serializes its files. */
export function finishMirroredVersion(mv: MirroredVersion, served: readonly ServedInstaller[]): Map<string, string> {
  mv.installers.forEach((inst, i) => {
    inst.node.set("InstallerUrl", served[i]!.url);
    inst.node.set("InstallerSha256", served[i]!.sha256.toUpperCase());
  });
  return new Map(mv.docs.map(({ fileName, doc }) => [fileName, doc.toString({ lineWidth: 0 })]));
}

/** One row of index.v2.json. */
export interface IndexEntry {
  Name: string;
  PackageId: string;
  Version: string;
  Tags: string[];
  LastUpdate: string;
}

/** ISO 8601 with a `+00:00` offset, as the community index writes it. */
export function indexDate(d: Date): string {
  return d.toISOString().replace(/Z$/, "+00:00");
}
