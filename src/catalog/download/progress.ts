/** Download rate and time left, from byte counts over a sliding window of the last few seconds. */

/** The window the rate is measured over: long enough to smooth bursts, short enough to follow a change. */
export const RATE_WINDOW_MS = 5000;

export class RateMeter {
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(
    private readonly clock: () => number,
    private readonly windowMs = RATE_WINDOW_MS,
  ) {}

  /** Records the running byte count now. */
  add(bytes: number): void {
    const at = this.clock();
    this.samples.push({ at, bytes });
    // Keep one sample older than the window, so the rate always spans the whole window once it is full.
    while (this.samples.length > 2 && at - this.samples[1]!.at >= this.windowMs) this.samples.shift();
  }

  /** Bytes per second over the window; 0 until two samples are apart in time. */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined || last.at <= first.at) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }

  /** Seconds left for `total` bytes at the current rate; undefined without a total or a rate. */
  etaSeconds(total: number | undefined): number | undefined {
    const last = this.samples.at(-1);
    const rate = this.rate();
    if (total === undefined || last === undefined || rate <= 0) return undefined;
    return Math.max(0, (total - last.bytes) / rate);
  }
}
