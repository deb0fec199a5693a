import type { SparseHistogram } from './stats';

/**
 * The ways an event reaches the gateway: `queued` (EventManager, one job per event) and `emitter`
 * are the e2e paths. `batched` is a PROTOTYPE for the breakdown scenario only: every event of one
 * producer tick in one job, published by the probe worker; src/ does not do this.
 */
export type Path = 'queued' | 'emitter' | 'batched';

export const BENCH_EVENT = 'order_status_changed';
export const BENCH_NS = '/orders';
export const BENCH_ORDER = 'bench';
export const BENCH_ROOM = `order:${BENCH_ORDER}`;

/**
 * The payload's `note` carries `<run>|<seq>|<send time>`, the same on both paths, so every
 * receiver can tell runs apart, count each event once and measure latency on one clock.
 */
export function encodeNote(run: number, seq: number, sentAt: number): string {
  return `${run}|${seq}|${sentAt.toFixed(3)}`;
}

export function decodeNote(note: unknown): { run: number; seq: number; sentAt: number } | undefined {
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

export interface SendArgs {
  path: Path;
  run: number;
  rate: number;
  count: number;
}

export interface SendResult {
  sent: number;
  failed: number;
  firstSendAt: number;
  lastSendAt: number;
  /** Queued path only: send -> EventManager.emit resolved (job stored in Redis). */
  accepted?: { hist: SparseHistogram; max: number; sum: number };
}

export interface StartArgs {
  run: number;
  expected: number;
}

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
}
