/**
 * The lock of an emulator state folder: `emulator start` holds `<state>/emulator.lock` (pid, host, start time,
 * address) while it runs, so a second start on the same folder refuses instead of overwriting credentials.json.
 * A lock whose process is gone (same host, pid not running) is taken over with a note. Taking over is best effort:
 * the holder checks the lock is still its own before it writes credentials.json.
 */
import { randomUUID } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { PublisherError, isPublisherError } from "../../core/errors.js";
import { readBoundedText } from "../../platform/fs.js";
import { processAlive } from "../../platform/process.js";

export const LOCK_FILE = "emulator.lock";
/** A lock file is a few hundred bytes of JSON. */
export const LOCK_MAX_BYTES = 4096;

export interface LockRecord {
  pid: number;
  hostname: string;
  startedAt: string;
  /** https://127.0.0.1:PORT, once the tenant listens */
  authorityHost?: string;
  nonce: string;
}

/** The lock in `stateDir`: undefined when there is none, "unreadable" when it is not a lock record. */
export async function readLock(stateDir: string): Promise<LockRecord | "unreadable" | undefined> {
  let text: string;
  try {
    text = await readBoundedText({
      path: join(stateDir, LOCK_FILE),
      what: "state folder lock",
      maxBytes: LOCK_MAX_BYTES,
    });
  } catch (e) {
    if (isPublisherError(e) && e.code === "FileNotFound") return undefined;
    return "unreadable";
  }
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    if (typeof r.pid === "number" && Number.isInteger(r.pid) && r.pid > 0 && typeof r.hostname === "string")
      return {
        pid: r.pid,
        hostname: r.hostname,
        startedAt: String(r.startedAt ?? ""),
        nonce: String(r.nonce ?? ""),
        ...(typeof r.authorityHost === "string" ? { authorityHost: r.authorityHost } : {}),
      };
  } catch {
    // not JSON
  }
  return "unreadable";
}

/** true: its process runs; false: it is gone; undefined: another host's lock, which this one cannot check. */
export function lockHolderAlive(r: LockRecord): boolean | undefined {
  return r.hostname === hostname() ? processAlive(r.pid) : undefined;
}

export interface StateLock {
  readonly path: string;
  /** records the address once the tenant listens */
  setAddress(authorityHost: string): Promise<void>;
  /** false when another start took the lock over */
  isHeld(): Promise<boolean>;
  /** removes the lock if it is still this process's */
  release(): Promise<void>;
}

function inUse(stateDir: string, lockPath: string, held: LockRecord | "unreadable"): PublisherError {
  const who =
    held === "unreadable"
      ? `its lock ${lockPath} cannot be read`
      : `pid ${held.pid}${held.hostname === hostname() ? "" : ` on ${held.hostname}`}${held.authorityHost ? `, ${held.authorityHost}` : ""}, since ${held.startedAt}`;
  return new PublisherError(
    "EmulatorStateInUse",
    `The state folder ${stateDir} is in use by another local tenant (${who}).`,
    {
      hint: `Stop that one first${held === "unreadable" ? "" : ` (Ctrl-C where it runs, or kill ${held.pid})`}, or start this one with another --state DIR. If no emulator runs on this folder, delete ${lockPath}.`,
    },
  );
}

/** Takes the lock of `stateDir` (which must exist), or refuses naming the running holder. */
export async function acquireStateLock(stateDir: string, onNote?: (line: string) => void): Promise<StateLock> {
  const lockPath = join(stateDir, LOCK_FILE);
  const record: LockRecord = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    nonce: randomUUID(),
  };
  const write = (flag: "wx" | "w"): Promise<void> =>
    writeFile(lockPath, JSON.stringify(record) + "\n", { flag, mode: 0o600 });
  // Each pass either takes the lock, throws, or removes a dead holder's lock; three passes at most.
  for (let attempt = 0; ; attempt++) {
    try {
      await write("wx");
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const held = await readLock(stateDir);
    if (held === undefined && attempt < 3) continue; // released meanwhile
    if (held === undefined || held === "unreadable" || lockHolderAlive(held) !== false || attempt >= 3)
      throw inUse(stateDir, lockPath, held ?? "unreadable");
    onNote?.(`Taking over the lock of ${stateDir}: its emulator (pid ${held.pid}) is no longer running.`);
    const again = await readLock(stateDir);
    if (again !== undefined && again !== "unreadable" && again.nonce === held.nonce)
      await rm(lockPath, { force: true });
  }
  const isHeld = async (): Promise<boolean> => {
    const now = await readLock(stateDir);
    return now !== undefined && now !== "unreadable" && now.nonce === record.nonce;
  };
  return {
    path: lockPath,
    async setAddress(authorityHost) {
      record.authorityHost = authorityHost;
      if (await isHeld()) await write("w");
    },
    isHeld,
    async release() {
      if (await isHeld()) await rm(lockPath, { force: true });
    },
  };
}
