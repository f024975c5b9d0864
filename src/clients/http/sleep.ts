import { setTimeout as delay } from "node:timers/promises";
import { abortError } from "./errors.js";
import type { Sleep } from "./types.js";

/** A real timer that rejects with a cancelled (or timeout) `PublisherError` when the signal aborts. */
export const abortableSleep: Sleep = async (ms, signal) => {
  if (signal?.aborted) throw abortError(signal);
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    throw err;
  }
};
