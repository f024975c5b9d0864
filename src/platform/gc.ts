/**
 * Prompt collection of dead buffers on a streaming path. Node's crypto and zlib return a fresh buffer for every
 * update (no API fills a caller's buffer); each dies at once, but V8 collects such buffers only when its external
 * memory limit (tens of MiB above the last collection) is crossed, and glibc reuses the freed 1 MiB blocks badly:
 * RSS grew with the input. A young-generation collection every few MiB of such garbage frees them while they are
 * still young, at ~0.3 ms each (≈ 0.1 s per GiB), and a full collection every 64 MiB frees those promoted meanwhile.
 *
 * The collector comes from V8's `--expose-gc`, set for this process at run time (never asked of the user); where
 * that is not possible, {@link noteGarbage} does nothing and V8's own schedule applies.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Gc = (options?: { type?: "minor" | "major"; execution?: "sync" | "async" }) => void;

/** Dead bytes between two young-generation collections. */
export const GARBAGE_STEP = 4 * 1024 * 1024;
/**
 * Dead bytes between two full collections: buffers that lived through two young collections (outputs waiting
 * for their turn) are promoted and only a full one frees them (≈ 15 ms; 16 per GiB).
 */
export const MAJOR_STEP = 64 * 1024 * 1024;

let collector: Gc | null | undefined;
let pending = 0;
let collections = 0;
let major = 0;

/** Young-generation collections {@link noteGarbage} has run in this process. */
export function garbageCollections(): number {
  return collections;
}

function gcFunction(): Gc | null {
  if (collector !== undefined) return collector;
  collector = null;
  try {
    const own = (globalThis as { gc?: unknown }).gc;
    if (typeof own === "function") return (collector = own as Gc);
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    if (typeof gc === "function") collector = gc as Gc;
  } catch {
    // no collector: V8's own schedule
  }
  return collector;
}

/**
 * Records `bytes` of buffers just dropped; runs a young-generation collection every {@link GARBAGE_STEP}, a full
 * one instead every {@link MAJOR_STEP}.
 */
export function noteGarbage(bytes: number): void {
  pending += bytes;
  if (pending < GARBAGE_STEP) return;
  pending = 0;
  const gc = gcFunction();
  if (!gc) return;
  major += GARBAGE_STEP;
  if (major >= MAJOR_STEP) {
    major = 0;
    gc({ type: "major" });
  } else gc({ type: "minor" });
  collections++;
}
