/**
 * The download lock file: for catalog entries without a published hash, the SHA-256 of the first download of each
 * product version (with its URL and size), so a later download of the same version must be the same file. JSON
 * beside the catalog configuration, written whole under a temporary name then renamed (0644: it holds no secret;
 * URLs are stored redacted), rows sorted so diffs stay small. Re-read before every write, so rows another process
 * added survive.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isPublisherError, PublisherError } from "../../core/errors.js";
import { readBoundedText } from "../../platform/fs.js";
import { redactUrl } from "../../clients/http/redact.js";

/** About 25,000 rows. */
export const LOCK_FILE_MAX_BYTES = 8 * 1024 * 1024;
export const LOCK_VERSION = 1;

export interface LockRow {
  /** product id (PackageIdentifier or catalog entry id), or the URL when none was given */
  id: string;
  version: string;
  url: string;
  size: number;
  sha256: string;
  recorded: string;
}

const keyOf = (id: string, version: string): string => `${id.toLowerCase()}\n${version}`;

export class DownloadLockFile {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  private async read(): Promise<Map<string, LockRow>> {
    let text: string;
    try {
      text = await readBoundedText({ path: this.path, what: "download lock file", maxBytes: LOCK_FILE_MAX_BYTES });
    } catch (e) {
      if (isPublisherError(e) && e.code === "FileNotFound") return new Map();
      throw e;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw this.invalid(`is not valid JSON (${(e as Error).message})`);
    }
    // Loaded here, not at start: see lock-schema.ts.
    const { fileSchema } = await import("./lock-schema.js");
    const r = fileSchema.safeParse(data);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw this.invalid(`has an invalid ${i.path.join(".") || "content"}: ${i.message}`);
    }
    return new Map(r.data.downloads.map((row) => [keyOf(row.id, row.version), row]));
  }

  private invalid(why: string): PublisherError {
    return new PublisherError("LockFileInvalid", `The download lock file ${this.path} ${why}.`, {
      hint: "Restore it from version control, or delete it to record the hashes again on the next downloads.",
    });
  }

  /** The row of a product version, if one was recorded. */
  async lookup(id: string, version: string): Promise<LockRow | undefined> {
    await this.chain.catch(() => undefined);
    return (await this.read()).get(keyOf(id, version));
  }

  /** The newest row recorded for a product (any version), optionally for one URL (as stored: redacted). */
  async latest(id: string, url?: string): Promise<LockRow | undefined> {
    await this.chain.catch(() => undefined);
    const rows = [...(await this.read()).values()].filter(
      (r) => r.id.toLowerCase() === id.toLowerCase() && (url === undefined || r.url === redactUrl(url)),
    );
    return rows.sort((a, b) => (a.recorded < b.recorded ? 1 : -1))[0];
  }

  /** Records a first download; an existing row for the same version is kept (the caller checked it matches). */
  record(row: Omit<LockRow, "recorded" | "url"> & { url: string }, now: Date = new Date()): Promise<void> {
    const run = async (): Promise<void> => {
      const rows = await this.read();
      const key = keyOf(row.id, row.version);
      if (rows.has(key)) return;
      rows.set(key, { ...row, url: redactUrl(row.url), recorded: now.toISOString() });
      const downloads = [...rows.values()].sort((a, b) =>
        a.id.toLowerCase() === b.id.toLowerCase()
          ? a.version < b.version
            ? -1
            : 1
          : a.id.toLowerCase() < b.id.toLowerCase()
            ? -1
            : 1,
      );
      const text = `${JSON.stringify({ lockVersion: LOCK_VERSION, downloads }, null, 2)}\n`;
      await mkdir(dirname(this.path), { recursive: true });
      const temp = join(dirname(this.path), `.${basename(this.path)}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        await writeFile(temp, text, { mode: 0o644 });
        await chmod(temp, 0o644);
        await rename(temp, this.path);
      } catch (e) {
        await rm(temp, { force: true });
        throw e;
      }
    };
    const next = this.chain.catch(() => undefined).then(run);
    this.chain = next;
    return next;
  }
}
