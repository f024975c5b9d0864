/**
 * A worker's packages for tenant jobs (docs/workers.md): a product version is packaged once for the whole fleet.
 * In the worker, one build per content hash (concurrent jobs wait for it); across workers, the shared package store
 * is looked up first, and a build lock on Redis (`ipub:build:<hash>`, SET NX with an expiry renewed while building)
 * lets one worker build while the others wait for the store to have it. A killed builder's lock expires and
 * another worker builds.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { RunPackages } from "../publish/publish.js";
import type { PackageStore } from "./package-store.js";

/** How long a build lock lasts without renewal (a killed builder's lock is free after this). */
export const BUILD_LOCK_MS = 30_000;
const POLL_MS = 200;

/** What one job did with packages: built here, or reused (this worker's or the store's). */
export interface JobPackages extends RunPackages {
  readonly built: number;
  readonly reused: number;
}

export class WorkerPackages {
  private readonly known = new Map<string, Promise<{ path: string }>>();

  constructor(
    private readonly dir: string,
    private readonly store?: PackageStore,
    private readonly redis?: Redis,
  ) {}

  /** The packages of one job, with its counts. */
  forJob(): JobPackages {
    const counts = { built: 0, reused: 0 };
    return {
      get built() {
        return counts.built;
      },
      get reused() {
        return counts.reused;
      },
      package: async (hash, build) => {
        let builtHere = false;
        const r = await this.package(hash, async (outDir) => {
          builtHere = true;
          return build(outDir);
        });
        if (builtHere) counts.built++;
        else counts.reused++;
        return r.path;
      },
    };
  }

  private package(hash: string, build: (outDir: string) => Promise<string>): Promise<{ path: string }> {
    const key = createHash("sha256").update(hash).digest("hex").slice(0, 32);
    const known = this.known.get(key);
    if (known !== undefined) return known;
    const made = this.make(hash, key, build);
    this.known.set(key, made);
    made.catch(() => this.known.delete(key));
    return made;
  }

  private async make(hash: string, key: string, build: (outDir: string) => Promise<string>): Promise<{ path: string }> {
    const outDir = join(this.dir, key);
    const fresh = async (): Promise<void> => {
      await rm(outDir, { recursive: true, force: true });
      await mkdir(outDir, { recursive: true });
    };
    await fresh();
    const store = this.store;
    if (store === undefined) return { path: await build(outDir) };
    const lockKey = `ipub:build:${key}`;
    const owner = randomUUID();
    for (;;) {
      const hit = await store.fetch(hash, outDir);
      if (hit !== undefined) return { path: hit };
      if (this.redis === undefined) break;
      const taken = await this.redis.set(lockKey, owner, "PX", BUILD_LOCK_MS, "NX");
      if (taken === "OK") break;
      await delay(POLL_MS);
    }
    const renew =
      this.redis === undefined
        ? undefined
        : setInterval(() => void this.redis?.pexpire(lockKey, BUILD_LOCK_MS).catch(() => undefined), BUILD_LOCK_MS / 3);
    try {
      // the lock was free: another worker may have stored it just before
      const hit = await store.fetch(hash, outDir);
      if (hit !== undefined) return { path: hit };
      await fresh();
      const path = await build(outDir);
      await store.put(hash, path);
      return { path };
    } finally {
      if (renew !== undefined) clearInterval(renew);
      // released only if still ours
      await this.redis
        ?.eval(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
          1,
          lockKey,
          owner,
        )
        .catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
