/**
 * The sync lock (docs/sync.md "Running it every day"): `<state>/sync.lock`, created exclusively (O_EXCL) with the
 * holder's pid, host and start time, removed when the run ends. A second sync — scheduled or manual — finds it and
 * does not run. A lock left by a process that no longer runs on this host (killed, crashed) is taken over.
 */
import { mkdir, open, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { isPublisherError } from "../../core/errors.js";
import { readBoundedText } from "../../platform/fs.js";
import { processAlive } from "../../platform/process.js";

export const SYNC_LOCK_FILE = "sync.lock";
/** A lock file is a JSON line of under a hundred bytes (limits.md). */
export const SYNC_LOCK_MAX_BYTES = 4096;

export interface SyncLockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
}

export type SyncLockResult =
  { acquired: true; release(): Promise<void> } | { acquired: false; holder: SyncLockHolder | undefined };

async function readHolder(path: string): Promise<SyncLockHolder | undefined> {
  try {
    const v = JSON.parse(await readBoundedText({ path, what: "sync lock", maxBytes: SYNC_LOCK_MAX_BYTES })) as unknown;
    if (typeof v === "object" && v !== null && typeof (v as SyncLockHolder).pid === "number")
      return v as SyncLockHolder;
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound") return undefined;
  }
  return undefined;
}

/** Takes the lock in `stateDir`, or says who holds it. */
export async function acquireSyncLock(stateDir: string, now: () => Date = () => new Date()): Promise<SyncLockResult> {
  const path = join(stateDir, SYNC_LOCK_FILE);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      const me: SyncLockHolder = { pid: process.pid, hostname: hostname(), startedAt: now().toISOString() };
      await fh.writeFile(JSON.stringify(me) + "\n");
      await fh.close();
      return {
        acquired: true,
        async release() {
          const h = await readHolder(path);
          if (h?.pid === process.pid) await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = await readHolder(path);
    // Taken over only when certainly stale: this host, and its process is gone (or the file is not a lock).
    if (holder === undefined || (holder.hostname === hostname() && !processAlive(holder.pid))) {
      await rm(path, { force: true });
      continue;
    }
    return { acquired: false, holder };
  }
  return { acquired: false, holder: await readHolder(path) };
}
