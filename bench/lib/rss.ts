import { readFileSync } from 'node:fs';
import { round } from './stats';

/**
 * Resident memory of another process, from /proc/<pid>/status (VmRSS, and VmHWM, its peak since
 * start), in bytes; NaN where unreadable. What the kernel charges the process: JS heap, native
 * allocations (malloc), code; not the kernel's socket buffers.
 */
export function rssBytes(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return kib === undefined ? NaN : Number(kib) * 1024;
  } catch {
    return NaN;
  }
}

export const MiB = 1024 * 1024;
export const toMiB = (bytes: number, digits = 1) => round(bytes / MiB, digits);

/** The median of `count` samples `everyMs` apart: one steady figure for "RSS now". */
export async function steadyRss(pid: number, count = 5, everyMs = 200): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, everyMs));
    xs.push(rssBytes(pid));
  }
  xs.sort((a, b) => a - b);
  return xs[xs.length >> 1] ?? NaN;
}

/**
 * Samples a process's VmRSS every `everyMs` (default 200 ms) between start() and stop(): the peak,
 * and a coarse series (one point per `seriesEveryMs`) to show how it grew.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  peak = NaN;
  first = NaN;
  last = NaN;
  samples = 0;
  /** [seconds since start, MiB] */
  readonly series: Array<[number, number]> = [];
  private nextSeriesAt = 0;

  constructor(
    readonly pid: number,
    readonly everyMs = 200,
    readonly seriesEveryMs = 1000,
  ) {}

  start(): this {
    this.t0 = performance.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  stop(): {
    peakBytes: number;
    firstBytes: number;
    lastBytes: number;
    samples: number;
    seriesMiB: Array<[number, number]>;
  } {
    // Idempotent: a second stop() returns the same figures.
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.sample();
    }
    return {
      peakBytes: this.peak,
      firstBytes: this.first,
      lastBytes: this.last,
      samples: this.samples,
      seriesMiB: this.series,
    };
  }

  private sample(): void {
    const v = rssBytes(this.pid);
    if (!Number.isFinite(v)) return;
    const at = performance.now() - this.t0;
    if (this.samples === 0) this.first = v;
    this.samples++;
    this.last = v;
    if (!(v <= this.peak)) this.peak = v;
    if (at >= this.nextSeriesAt) {
      this.series.push([round(at / 1000, 1), toMiB(v)]);
      this.nextSeriesAt += this.seriesEveryMs;
    }
  }
}
