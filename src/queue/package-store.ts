/**
 * The shared package store (docs/workers.md): a package built by one worker is found by the others, keyed by the
 * content hash of what was packaged (the publish plan's source-tree hash), so a product version is packaged once
 * whatever the number of tenants or workers. Two kinds: a folder (a shared volume) and an Azure Blob Storage
 * container (@azure/storage-blob; Azurite for the local tenant).
 *
 * A `.intunewin` holds its encryption key in Detection.xml: the store must be as private as the credentials (folder
 * 0700, files 0600; a private container). Entries are written whole (temporary name, then rename / one upload), so
 * a reader never sees half a package.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, copyFile, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { AnonymousCredential, ContainerClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import type { StoragePipelineOptions } from "@azure/storage-blob";
import type { PackageStore as PublishPackageStore } from "../publish/publish.js";

export interface PackageStoreStats {
  hits: number;
  misses: number;
  puts: number;
}

export interface PackageStore extends PublishPackageStore {
  readonly stats: PackageStoreStats;
}

const KEY = /^[0-9a-f]{16,128}$/;
const NAME = /^[^/\\]{1,200}\.intunewin$/;

function checkKey(key: string): string {
  const k = key.replace(/^sha256:/, "");
  if (!KEY.test(k)) throw new Error(`Not a content hash: ${key}`);
  return k;
}

/** `<root>/<hash>/<name>.intunewin`. */
export class FolderPackageStore implements PackageStore {
  readonly stats: PackageStoreStats = { hits: 0, misses: 0, puts: 0 };
  readonly label: string;

  constructor(private readonly root: string) {
    this.label = `folder ${root}`;
  }

  async fetch(key: string, dir: string): Promise<string | undefined> {
    const entry = join(this.root, checkKey(key));
    let names: string[];
    try {
      names = (await readdir(entry)).filter((n) => NAME.test(n) && !n.startsWith("."));
    } catch {
      this.stats.misses++;
      return undefined;
    }
    if (names.length !== 1) {
      this.stats.misses++;
      return undefined;
    }
    await mkdir(dir, { recursive: true });
    const out = join(dir, names[0]!);
    await copyFile(join(entry, names[0]!), out);
    this.stats.hits++;
    return out;
  }

  async put(key: string, path: string): Promise<void> {
    const entry = join(this.root, checkKey(key));
    const name = basename(path);
    if (!NAME.test(name)) throw new Error(`Not a package file name: ${name}`);
    if (await exists(join(entry, name))) return;
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    // Built beside the entry under a temporary name, then renamed in whole: readers see all of it or nothing.
    const tmp = join(this.root, `.tmp-${randomUUID()}`);
    await mkdir(tmp, { mode: 0o700 });
    try {
      await copyFile(path, join(tmp, name));
      await chmod(join(tmp, name), 0o600);
      await rename(tmp, entry).catch(async (e: NodeJS.ErrnoException) => {
        // another worker stored it first
        if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
      });
      this.stats.puts++;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Blobs `<hash>/<name>.intunewin` in one container. */
export class BlobPackageStore implements PackageStore {
  readonly stats: PackageStoreStats = { hits: 0, misses: 0, puts: 0 };
  readonly label: string;
  private readonly container: ContainerClient;
  private ready: Promise<unknown> | undefined;

  /**
   * `containerUrl`: `https://ACCOUNT.blob.core.windows.net/CONTAINER` (or Azurite's path-style
   * `https://127.0.0.1:PORT/ACCOUNT/CONTAINER`), with `accountKey` or a SAS in the URL; `caPem` trusts an extra CA
   * (Azurite's), certificates are always verified.
   */
  constructor(containerUrl: string, o: { accountName?: string; accountKey?: string; caPem?: string } = {}) {
    const u = new URL(containerUrl);
    this.label = `blob ${u.origin}${u.pathname}`;
    const pipelineOptions: StoragePipelineOptions & { tlsOptions?: { ca: string; rejectUnauthorized: true } } =
      o.caPem === undefined ? {} : { tlsOptions: { ca: o.caPem, rejectUnauthorized: true } };
    if (o.accountKey !== undefined) {
      const account = o.accountName ?? accountOf(u);
      this.container = new ContainerClient(
        containerUrl,
        new StorageSharedKeyCredential(account, o.accountKey),
        pipelineOptions,
      );
    } else this.container = new ContainerClient(containerUrl, new AnonymousCredential(), pipelineOptions);
  }

  private ensure(): Promise<unknown> {
    this.ready ??= this.container.createIfNotExists().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async fetch(key: string, dir: string): Promise<string | undefined> {
    const k = checkKey(key);
    await this.ensure();
    const names: string[] = [];
    for await (const b of this.container.listBlobsFlat({ prefix: `${k}/` })) names.push(b.name);
    const name = names.length === 1 ? names[0]!.slice(k.length + 1) : undefined;
    if (name === undefined || !NAME.test(name)) {
      this.stats.misses++;
      return undefined;
    }
    await mkdir(dir, { recursive: true });
    const out = join(dir, name);
    const res = await this.container.getBlobClient(`${k}/${name}`).download();
    await pipeline(res.readableStreamBody!, createWriteStream(out, { mode: 0o600 }));
    this.stats.hits++;
    return out;
  }

  async put(key: string, path: string): Promise<void> {
    const k = checkKey(key);
    const name = basename(path);
    if (!NAME.test(name)) throw new Error(`Not a package file name: ${name}`);
    await this.ensure();
    const blob = this.container.getBlockBlobClient(`${k}/${name}`);
    try {
      // If-None-Match: * — the first writer wins, a second upload of the same content is refused and ignored
      await blob.uploadFile(path, { conditions: { ifNoneMatch: "*" } });
      this.stats.puts++;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 409) throw e;
    }
  }
}

function accountOf(u: URL): string {
  if (/^[\d.]+$|^\[|^localhost$/i.test(u.hostname)) return u.pathname.split("/")[1] ?? "";
  return u.hostname.split(".")[0]!;
}
