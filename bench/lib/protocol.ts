import type { SparseHistogram } from './stats';

/**
 * The ways an event reaches the gateway in the bench:
 * - `queued`:     EventManager.emitToOrder -> delivery batch job -> worker process -> adapter message.
 * - `emitter`:    @socket.io/redis-emitter straight into the gateway's adapter channel (baseline).
 * - `http`:       `POST /api/events`, one event per request (keep-alive), then as `queued`.
 * - `http-batch`: `POST /api/events/batch`, the events of one producer tick per request.
 */
export type Path = 'queued' | 'emitter' | 'http' | 'http-batch';

export const BENCH_EVENT = 'order_status_changed';
export const BENCH_NS = '/orders';
export const BENCH_ORDER = 'bench';
export const BENCH_ROOM = `order:${BENCH_ORDER}`;

/**
 * The payload's `note` carries `<run>|<seq>|<send time>`, the same on every path, so every
 * receiver can tell runs apart, count each event once and measure latency on one clock.
 */
export function encodeNote(run: number, seq: number, sentAt: number): string {
  return `${run}|${seq}|${sentAt.toFixed(3)}`;
}

/** encodeNote padded with `|` and filler to `length` characters (the catalog allows a note of up to 500). */
export function paddedNote(run: number, seq: number, sentAt: number, length: number): string {
  const note = encodeNote(run, seq, sentAt);
  return note.length + 1 >= length ? note : `${note}|${'x'.repeat(length - note.length - 1)}`;
}

export function decodeNote(
  note: unknown,
): { run: number; seq: number; sentAt: number } | undefined {
  if (typeof note !== 'string') return undefined;
  const [run, seq, sentAt] = note.split('|');
  if (run === undefined || seq === undefined || sentAt === undefined) return undefined;
  return { run: Number(run), seq: Number(seq), sentAt: Number(sentAt) };
}

/** Every IPC message is a request with an id or its reply carrying the same id. */
export interface Request<T = unknown> {
  id: number;
  cmd: string;
  args: T;
}
export interface Reply<T = unknown> {
  id: number;
  ok: boolean;
  result?: T;
  error?: string;
}

/**
 * Sending as fast as possible (throughput scenario) instead of at a paced rate, with bounded
 * memory: `queued` keeps at most `maxInFlight` emits not yet accepted; `emitter` yields to the
 * event loop every `yieldEvery` emits and waits for Redis to have taken the previous
 * `maxInFlight` publishes (a PING behind them) before it goes further.
 */
export interface FloodArgs {
  durationMs: number;
  /** Stops early after this many events (the receivers' capacity). */
  maxCount: number;
  maxInFlight: number;
  yieldEvery: number;
}

export interface SendArgs {
  path: Path;
  run: number;
  /** Paced runs: events per second and how many. Ignored when `flood` is set. */
  rate: number;
  count: number;
  flood?: FloodArgs;
  /** Pads each event's `note` to this many characters (after `<run>|<seq>|<send time>|`); default: no padding. */
  noteBytes?: number;
}

export interface SendResult {
  sent: number;
  failed: number;
  firstSendAt: number;
  lastSendAt: number;
  /** The first failure, for the log (status and body of a refused request, or the error). */
  firstError?: string;
  /** Requests made (http paths): one per event on `http`, one per tick on `http-batch`. */
  requests?: number;
  /** Flood: the most sends awaiting acceptance at once. */
  peakInFlight?: number;
  /** Queued and http paths: send -> accepted (EventManager.emit resolved, or the HTTP answer). */
  accepted?: { hist: SparseHistogram; max: number; sum: number };
}

export interface StartArgs {
  run: number;
  /** Events each socket should get; Infinity (sent as null) until `expect` says (flood runs). */
  expected: number | null;
  /** Highest sequence number + 1 this run may use (defaults to `expected`). */
  capacity?: number;
  /** Also keep, per second of send time, the worst latency and the deliveries over 100 ms (ClientReport.timeline). */
  timeline?: boolean;
}

/** Per second of send time (epoch second): [second, max latency ms, deliveries slower than 100 ms]. */
export type Timeline = Array<[second: number, maxMs: number, over100ms: number]>;

export interface ClientReport {
  run: number;
  /** Distinct events of this run each socket received. */
  perSocket: number[];
  duplicates: number;
  /** Events of other runs that arrived during this one (late stragglers). */
  stale: number;
  lastRecvAt: number;
  hist: SparseHistogram;
  max: number;
  sum: number;
  /** Only when the run asked for it (StartArgs.timeline). */
  timeline?: Timeline;
}
