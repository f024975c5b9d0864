/**
 * Packages shared between the tenants of one run (docs/tenants.md): a product version is packaged once, keyed by
 * its content hash (the installer's SHA-256 and the definition's packaging inputs: the content folder's files and
 * the setup file), and the same `.intunewin` is uploaded to every tenant that needs it. Concurrent callers of one
 * hash wait for the one build; a failed build is forgotten so the next caller tries again.
 */
import { createHash } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { RunPackages } from "../publish.js";

export class SharedPackages implements RunPackages {
  /** packages built (one per content hash) */
  packagings = 0;
  /** packages handed out again without building */
  reused = 0;
  private readonly built = new Map<string, Promise<string>>();

  constructor(private readonly dir: string) {}

  package(contentHash: string, build: (outDir: string) => Promise<string>): Promise<string> {
    const key = createHash("sha256").update(contentHash).digest("hex").slice(0, 32);
    const known = this.built.get(key);
    if (known !== undefined) {
      this.reused++;
      return known;
    }
    const made = (async () => {
      const outDir = join(this.dir, key);
      await rm(outDir, { recursive: true, force: true });
      await mkdir(outDir, { recursive: true });
      this.packagings++;
      return build(outDir);
    })();
    this.built.set(key, made);
    made.catch(() => this.built.delete(key));
    return made;
  }

  /** Removes every package (the end of the run). */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
