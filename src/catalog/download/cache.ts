/**
 * The download cache: verified files named by their SHA-256 (`sha256/<hex>`), and partial downloads being resumed
 * (`partial/<key>.partial` with `<key>.json`: URL, validator and size of the answer they belong to; `<key>.lock`:
 * the process writing it). A file enters `sha256/` only by a rename after its hash was checked, so a partial
 * or unverified file is never found there; a cached file is hashed again before it is used.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join, posix, win32 } from "node:path";
import { isPublisherError } from "../../core/errors.js";
import { userCacheDir } from "../../core/config/dirs.js";
import { openRegularFile, readBoundedText } from "../../platform/fs.js";
import { processAlive } from "../../platform/process.js";

/** `$XDG_CACHE_HOME/intune-publisher/downloads` and the like (src/core/config/dirs.ts). */
export function defaultDownloadCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  return (platform === "win32" ? win32 : posix).join(userCacheDir(env, platform, home), "downloads");
}

const HEX64 = /^[0-9a-f]{64}$/;
/** A partial's side file is a few hundred bytes. */
const META_MAX_BYTES = 64 * 1024;
const READ_CHUNK = 1024 * 1024;

export interface PartialMeta {
  /** the URL asked for (before redirects) */
  url: string;
  /** strong ETag, else Last-Modified, of the answer the bytes came from; absent: not resumable */
  validator?: string;
  /** the whole file's size, when the server said */
  total?: number;
}

/** SHA-256 of a file's first `length` bytes (all when undefined); its hash object is returned to go on. */
export async function hashFile(
  path: string,
  length?: number,
): Promise<{ hash: ReturnType<typeof createHash>; bytes: number }> {
  const hash = createHash("sha256");
  const { handle, stats } = await openRegularFile({ path, what: "downloaded file" });
  try {
    const end = length ?? stats.size;
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(end, 1)));
    let at = 0;
    while (at < end) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, end - at), at);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
    return { hash, bytes: at };
  } finally {
    await handle.close();
  }
}

/**
 * What the cache knows of a URL whose file may change (a fixed-URL catalog entry): the verified file last downloaded
 * from it and the validators of that answer, for a conditional request next time (`urls/<sha256 of the URL>.json`).
 */
export interface UrlRecord {
  url: string;
  sha256: string;
  size: number;
  /** the answer's ETag (strong or weak) */
  etag?: string;
  lastModified?: string;
  /** the version read from the file (an MSI's ProductVersion) */
  version?: string;
  /** when it was downloaded (ISO) */
  downloaded: string;
}

export class DownloadCache {
  constructor(readonly dir: string) {}

  private urlRecordPath(url: string): string {
    return join(this.dir, "urls", `${createHash("sha256").update(url).digest("hex")}.json`);
  }

  /** The record of `url`, when one was written and is well-formed. */
  async urlRecord(url: string): Promise<UrlRecord | undefined> {
    try {
      const r = JSON.parse(
        await readBoundedText({ path: this.urlRecordPath(url), what: "URL record", maxBytes: META_MAX_BYTES }),
      ) as Partial<UrlRecord>;
      if (r.url !== url || typeof r.sha256 !== "string" || !HEX64.test(r.sha256) || typeof r.size !== "number")
        return undefined;
      return r as UrlRecord;
    } catch {
      return undefined;
    }
  }

  /** Writes the record of a URL (under a temporary name, then renamed). */
  async writeUrlRecord(record: UrlRecord): Promise<void> {
    const path = this.urlRecordPath(record.url);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(temp, JSON.stringify(record), { mode: 0o644 });
    await rename(temp, path);
  }

  pathOf(sha256: string): string {
    if (!HEX64.test(sha256)) throw new Error(`Not a SHA-256: ${sha256}`);
    return join(this.dir, "sha256", sha256);
  }

  /** The cached file with this hash, hashed again now; a damaged one is deleted and reported as absent. */
  async verified(sha256: string): Promise<{ path: string; size: number } | undefined> {
    const path = this.pathOf(sha256);
    try {
      const { hash, bytes } = await hashFile(path);
      if (hash.digest("hex") === sha256) return { path, size: bytes };
      await rm(path, { force: true });
      return undefined;
    } catch (e) {
      if (isPublisherError(e) && e.code === "FileNotFound") return undefined;
      throw e;
    }
  }

  /** Moves a verified file into the cache (a copy already there wins) and returns its path. */
  async store(tempPath: string, sha256: string): Promise<string> {
    const path = this.pathOf(sha256);
    await mkdir(join(this.dir, "sha256"), { recursive: true });
    try {
      await stat(path);
      await rm(tempPath, { force: true });
    } catch {
      await chmod(tempPath, 0o644);
      await rename(tempPath, path);
    }
    return path;
  }

  /** Partial-download paths for a key; `lock` tells whether this process may use them (else a private file). */
  async partial(key: string): Promise<PartialFiles> {
    const dir = join(this.dir, "partial");
    await mkdir(dir, { recursive: true });
    const base = join(dir, key);
    if (await takeLock(`${base}.lock`)) return new PartialFiles(base, true);
    // Another live process is writing this download: work on a private file, without resume.
    return new PartialFiles(join(dir, `${key}.${process.pid}-${randomBytes(4).toString("hex")}`), false);
  }
}

/** Creates `path` holding our pid; a lock left by a process that no longer runs is taken over. */
async function takeLock(path: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const h = await open(path, "wx", 0o644);
      await h.writeFile(String(process.pid));
      await h.close();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const pid = Number((await readBoundedText({ path, what: "download lock", maxBytes: 64 }).catch(() => "")).trim());
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) return false;
    await rm(path, { force: true });
  }
  return false;
}

export class PartialFiles {
  readonly data: string;
  private readonly metaPath: string;

  constructor(
    private readonly base: string,
    /** shared across runs (resumable), or private to this run */
    readonly shared: boolean,
  ) {
    this.data = `${base}.partial`;
    this.metaPath = `${base}.json`;
  }

  /** The bytes already there and what they belong to; nothing when they cannot be resumed for `url`. */
  async existing(url: string): Promise<{ bytes: number; meta: PartialMeta } | undefined> {
    try {
      const meta = JSON.parse(
        await readBoundedText({ path: this.metaPath, what: "partial download record", maxBytes: META_MAX_BYTES }),
      ) as PartialMeta;
      const bytes = (await stat(this.data)).size;
      if (meta.url !== url || meta.validator === undefined || bytes === 0) return undefined;
      if (meta.total !== undefined && bytes > meta.total) return undefined;
      return { bytes, meta };
    } catch {
      return undefined;
    }
  }

  async writeMeta(meta: PartialMeta): Promise<void> {
    const temp = `${this.metaPath}.${randomBytes(4).toString("hex")}.tmp`;
    const h = await open(temp, "w", 0o644);
    try {
      await h.writeFile(JSON.stringify(meta));
    } finally {
      await h.close();
    }
    await rename(temp, this.metaPath);
  }

  /** Deletes the bytes and their record. */
  async discard(): Promise<void> {
    await Promise.all([rm(this.data, { force: true }), rm(this.metaPath, { force: true })]);
  }

  /** After the data file was moved away (or discarded): the record, and the lock or the private files. */
  async release(): Promise<void> {
    if (!this.shared) await this.discard();
    if (this.shared) await unlink(`${this.base}.lock`).catch(() => undefined);
  }
}
