import type { CommandContext } from "./command.js";
import { drawStatusLine } from "./safe-output.js";

/** A progress bar on stderr, drawn only when stderr is a TTY; a no-op otherwise. */
export interface ProgressBar {
  update(done: number, total: number): void;
  finish(): void;
}

export function createProgressBar(ctx: CommandContext, label: string): ProgressBar {
  if (!ctx.stderr.isTTY) return { update() {}, finish() {} };
  let last = 0;
  let drawn = false;
  const draw = (done: number, total: number): void => {
    const width = Math.max(10, Math.min(40, (ctx.stderr.columns ?? 80) - label.length - 30));
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    drawStatusLine(ctx.stderr, `${label} [${bar}] ${(ratio * 100).toFixed(0).padStart(3)}% ${formatBytes(done)}`);
    drawn = true;
  };
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, total);
    },
    finish() {
      if (drawn) ctx.stderr.write("\n");
    },
  };
}

/** Runs `fn` with a progress callback drawing a bar labelled `label`; the bar ends with it. */
export async function withProgressBar<T>(
  ctx: CommandContext,
  label: string,
  fn: (onProgress: (done: number, total: number) => void) => Promise<T>,
): Promise<T> {
  const bar = createProgressBar(ctx, label);
  try {
    return await fn((done, total) => bar.update(done, total));
  } finally {
    bar.finish();
  }
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}
