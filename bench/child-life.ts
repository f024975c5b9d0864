/**
 * The lifetime of a benchmark's child tenant process: it closes (then exits 0) on SIGTERM, after a safety timeout,
 * and — unless `stdinCommands` (the child reads stdin itself and calls `stop` when it closes) — when its stdin ends,
 * that is when the benchmark exits or closes it. Returns `stop`.
 */
export function serveUntilParentGoes(
  name: string,
  close: () => Promise<void>,
  o: { maxSeconds: number; stdinCommands?: boolean },
): () => void {
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    void close().then(() => process.exit(0));
  };
  if (o.stdinCommands !== true) {
    process.stdin.on("end", stop);
    process.stdin.on("close", stop);
    process.stdin.resume();
  }
  process.on("SIGTERM", stop);
  setTimeout(() => {
    process.stderr.write(`${name}: safety timeout after ${o.maxSeconds} s\n`);
    stop();
  }, o.maxSeconds * 1000).unref();
  return stop;
}
