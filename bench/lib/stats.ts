/**
 * Latency histograms that can be filled in one process and merged in another (sent over IPC as
 * sparse [bucket, count] pairs): 1M samples per run would be too many to ship raw.
 * Buckets: 0.05 ms wide below 200 ms, 1 ms wide from 200 ms to 60 s; above that, the last bucket.
 */
const FINE_MS = 200;
const FINE_PER_MS = 20;
const FINE_BUCKETS = FINE_MS * FINE_PER_MS;
const COARSE_BUCKETS = 60_000 - FINE_MS;
const BUCKETS = FINE_BUCKETS + COARSE_BUCKETS;

/** One clock for every process on this machine: wall time at process start + monotonic delta. */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}

export type SparseHistogram = Array<[number, number]>;

export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  max = 0;
  sum = 0;

  record(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    const i =
      v < FINE_MS
        ? Math.floor(v * FINE_PER_MS)
        : Math.min(BUCKETS - 1, FINE_BUCKETS + Math.floor(v - FINE_MS));
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  toSparse(): SparseHistogram {
    const out: SparseHistogram = [];
    this.counts.forEach((c, i) => {
      if (c > 0) out.push([i, c]);
    });
    return out;
  }

  merge(sparse: SparseHistogram, max: number, sum: number): void {
    for (const [i, c] of sparse) {
      this.counts[i] = (this.counts[i] ?? 0) + c;
      this.count += c;
    }
    this.sum += sum;
    if (max > this.max) this.max = max;
  }

  /** The value at quantile q (0..1), as the upper edge of its bucket (never flatters). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank)
        return i < FINE_BUCKETS ? (i + 1) / FINE_PER_MS : FINE_MS + (i - FINE_BUCKETS) + 1;
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      samples: this.count,
      p50: round(this.quantile(0.5)),
      p95: round(this.quantile(0.95)),
      p99: round(this.quantile(0.99)),
      max: round(this.max),
      mean: round(this.count ? this.sum / this.count : NaN),
    };
  }
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function median(values: number[]): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function ratio(a: number, b: number): number {
  return b > 0 ? round(a / b, 2) : NaN;
}
