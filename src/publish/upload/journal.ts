/**
 * The upload journal (resumable uploads): what a later process needs to continue an upload: the app,
 * content version and file ids, the block layout, the package's digest and the blocks storage acknowledged.
 * One JSON file, replaced atomically: written to a temporary name, fsynced, renamed over the journal, and the
 * folder fsynced, so a crash leaves either the old journal or the new one, never a torn one.
 * Writes are coalesced: while one is in flight, later states wait and only the newest is written.
 */
import { createHash } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import type { IntunewinPackage } from "../../intunewin/read.js";

export const JOURNAL_VERSION = 1;

const journalSchema = z.object({
  version: z.literal(JOURNAL_VERSION),
  appId: z.string().min(1),
  contentVersionId: z.string().min(1),
  fileId: z.string().min(1),
  /** see `packageDigest` */
  packageDigest: z.string().min(1),
  payloadSize: z.number().int().nonnegative(),
  blockSize: z.number().int().positive(),
  blockCount: z.number().int().positive(),
  /** base64 block ids storage answered 201 to (Put Block), in no particular order */
  acknowledged: z.array(z.string()),
  /** set once Put Block List succeeded / the commit was posted */
  blockListCommitted: z.boolean(),
  commitRequested: z.boolean(),
  packagePath: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type UploadJournalEntry = z.infer<typeof journalSchema>;

/**
 * Identifies the encrypted payload without reading it: the payload's HMAC (`Mac`, which covers IV and ciphertext),
 * the plaintext's SHA-256 (`FileDigest`) and both sizes. Keys are random per package, so two packagings of the same
 * folder differ. A package altered after packaging keeps its digest; the commit verification catches that.
 */
export function packageDigest(pkg: Pick<IntunewinPackage, "detection" | "payloadSize">): string {
  const e = pkg.detection.EncryptionInfo;
  return createHash("sha256")
    .update(`${e.Mac}\n${e.FileDigest}\n${pkg.payloadSize}\n${pkg.detection.UnencryptedContentSize}`)
    .digest("hex");
}

export class UploadJournal {
  private current: UploadJournalEntry | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private failure: unknown;

  private constructor(readonly path: string) {}

  /** Opens the journal at `path`; `entry` is what it holds, or undefined when absent or unreadable. */
  static async open(path: string): Promise<{ journal: UploadJournal; entry: UploadJournalEntry | undefined }> {
    const journal = new UploadJournal(path);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return { journal, entry: undefined };
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { journal, entry: undefined };
    }
    const r = journalSchema.safeParse(parsed);
    if (!r.success) return { journal, entry: undefined };
    journal.current = r.data;
    return { journal, entry: r.data };
  }

  get entry(): UploadJournalEntry | undefined {
    return this.current;
  }

  /** Replaces the whole entry and writes it (coalesced). */
  set(entry: Omit<UploadJournalEntry, "updatedAt">): Promise<void> {
    this.current = { ...entry, updatedAt: new Date().toISOString() };
    return this.schedule();
  }

  /** Changes some fields and writes (coalesced); no-op without an entry. */
  update(change: Partial<Omit<UploadJournalEntry, "updatedAt" | "version">>): Promise<void> {
    if (this.current === undefined) return Promise.resolve();
    this.current = { ...this.current, ...change, updatedAt: new Date().toISOString() };
    return this.schedule();
  }

  /** Records an acknowledged block; written with the next coalesced write. */
  acknowledge(id: string): Promise<void> {
    if (this.current === undefined) return Promise.resolve();
    this.current.acknowledged.push(id);
    return this.schedule();
  }

  /** Waits until everything set so far is on disk; throws the last write failure. */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    if (this.failure !== undefined) {
      const f = this.failure;
      this.failure = undefined;
      throw f;
    }
  }

  /** Deletes the journal (after success, or when it describes an upload that cannot be continued). */
  async remove(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.current = undefined;
    await rm(this.path, { force: true });
  }

  private schedule(): Promise<void> {
    this.dirty = true;
    this.writing ??= this.drain();
    return this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.dirty && this.current !== undefined) {
        this.dirty = false;
        await writeAtomically(this.path, `${JSON.stringify(this.current, null, 1)}\n`);
      }
    } catch (e) {
      this.failure = e;
    } finally {
      this.writing = undefined;
    }
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  const fh = await open(temp, "w", 0o600);
  try {
    await fh.writeFile(text, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, path);
  // The rename itself is durable only once the folder is synced (not possible on Windows: ignored there).
  try {
    const dir = await open(dirname(path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // best effort
  }
}
