import type { CommandContext } from "./command.js";
import { drawStatusLine } from "./safe-output.js";

/** When stderr is not a terminal: a progress line at each 10 % step, or after this long without one. */
export const PROGRESS_LINE_STEP_PERCENT = 10;
export const PROGRESS_LINE_INTERVAL_MS = 30_000;

/** A progress bar on stderr: redrawn in place on a terminal; elsewhere a line every 10 % or 30 s. */
export interface ProgressBar {
  update(done: number, total: number): void;
  finish(): void;
}

/**
 * Rate and time left of a transfer: bytes per second over the last few seconds (so a stall shows), and the time left
 * at that rate. `now` is the clock (tests give their own).
 */
export class RateMeter {
  private readonly samples: { t: number; done: number }[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowMs = 5_000,
  ) {}

  /** Records `done` bytes of `total`; returns the rate (bytes/s, 0 until known) and the seconds left when known. */
  sample(done: number, total: number): { rate: number; etaSeconds: number | undefined } {
    const t = this.now();
    this.samples.push({ t, done });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (t - first.t) / 1000;
    const rate = seconds > 0 ? Math.max(0, (done - first.done) / seconds) : 0;
    const etaSeconds = rate > 0 && total > 0 ? Math.max(0, (total - done) / rate) : undefined;
    return { rate, etaSeconds };
  }
}

/**
 * Whether a line-per-step progress (stderr not a terminal) prints now: the first update, each time another 10 % step
 * is reached, after 30 s without a line, and at 100 % (once).
 */
export class LineThrottle {
  private lastStep = -1;
  private lastAt = 0;
  private ended = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** `total` undefined: the size is unknown, so a line every 30 s only. */
  due(done: number, total: number | undefined): boolean {
    if (this.ended) return false;
    const t = this.now();
    const percent = total === undefined ? 0 : total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
    const step = total === undefined ? 0 : Math.floor(percent / PROGRESS_LINE_STEP_PERCENT);
    if (step > this.lastStep || t - this.lastAt >= PROGRESS_LINE_INTERVAL_MS) {
      this.lastStep = Math.max(step, this.lastStep);
      this.lastAt = t;
      if (percent >= 100) this.ended = true;
      return true;
    }
    return false;
  }
}

/** "45% 12.0 MiB of 26.7 MiB, 3.1 MiB/s, 5 s left" */
export function progressText(done: number, total: number, m: { rate: number; etaSeconds: number | undefined }): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const rate = m.rate > 0 ? `, ${formatBytes(m.rate)}/s` : "";
  const eta = m.etaSeconds !== undefined && ratio < 1 ? `, ${formatDuration(m.etaSeconds)} left` : "";
  return `${Math.floor(ratio * 100)}% ${formatBytes(done)} of ${formatBytes(total)}${rate}${eta}`;
}

/** The terminal's width when it is known (a terminal reporting 0 columns does not know it). */
export function knownColumns(stream: { columns?: number | undefined }): number | undefined {
  const c = stream.columns;
  return typeof c === "number" && Number.isFinite(c) && c > 0 ? c : undefined;
}

/** `text` cut to fit a status line of a terminal `columns` wide; whole when the width is unknown. */
export function fitStatus(text: string, columns: number | undefined): string {
  return columns === undefined ? text : text.slice(0, Math.max(20, columns - 1));
}

export function createProgressBar(ctx: CommandContext, label: string, now: () => number = Date.now): ProgressBar {
  const meter = new RateMeter(now);
  if (!ctx.stderr.isTTY) {
    const throttle = new LineThrottle(now);
    return {
      update(done, total) {
        const m = meter.sample(done, total);
        if (throttle.due(done, total)) ctx.stderr.write(`${label}: ${progressText(done, total, m)}\n`);
      },
      finish() {},
    };
  }
  let last = 0;
  let drawn = false;
  const draw = (done: number, total: number): void => {
    const m = meter.sample(done, total);
    const text = progressText(done, total, m);
    const columns = knownColumns(ctx.stderr);
    const width = Math.max(10, Math.min(40, (columns ?? 80) - label.length - text.length - 5));
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    drawStatusLine(ctx.stderr, fitStatus(`${label} [${bar}] ${text}`, columns));
    drawn = true;
  };
  return {
    update(done, total) {
      const t = now();
      if (t - last < 100 && done < total) return;
      last = t;
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

/** "9 s", "2 min 5 s", "1 h 3 min" */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
