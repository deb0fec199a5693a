import type { Envelope } from '../wire/envelope';
import { within } from '../timeout';

interface Waiting {
  envelope: Envelope;
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface BatcherOptions {
  /** A batch waits at most this long after the previous one left; none at all if that was longer ago. */
  lingerMs: number;
  maxEvents: number;
  maxBytes: number;
  /** Adds in flight at once; more only when a batch is full (order is kept: one connection, in order). */
  maxInFlight?: number;
  /**
   * How long one add may stay in flight before the batcher gives up on it and moves on (the
   * callers were told `unavailable` by then). Without it, one add that never settles (a command
   * parked by a Redis Cluster client during a failover) would hold every later batch back.
   */
  sendTimeoutMs?: number;
}

/**
 * Gathers accepted events into delivery batches ("smart batching", as Kafka producers and
 * Centrifugo do): a batch leaves as soon as nothing is in flight, so a lone event at low load
 * leaves at once (after the current turn of the event loop). Under load, events gather while an
 * add is in flight and, when the previous batch left less than `lingerMs` ago, for the rest of
 * that time: one job then carries many events instead of one or two (see docs/performance.md).
 * A batch leaves early when it reaches `maxEvents` or `maxBytes`.
 *
 * `send` stores one batch (one BullMQ job); each event's promise settles with its batch.
 */
export class DeliveryBatcher {
  private waiting: Waiting[] = [];
  private bytes = 0;
  private inFlight = 0;
  private lastSentAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private soon = false;
  private readonly maxInFlight: number;

  constructor(
    private readonly send: (events: Envelope[]) => Promise<unknown>,
    private readonly opts: BatcherOptions,
  ) {
    this.maxInFlight = opts.maxInFlight ?? 4;
  }

  /** Resolves once the event is stored in Redis as part of a batch. */
  add(envelope: Envelope, bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // An event that would overflow the gathered batch's bytes starts the next one.
      if (this.waiting.length > 0 && this.bytes + bytes > this.opts.maxBytes) this.sendNow();
      this.waiting.push({ envelope, bytes, resolve, reject });
      this.bytes += bytes;
      if (this.full()) this.sendNow();
      else this.schedule();
    });
  }

  private full(): boolean {
    return this.waiting.length >= this.opts.maxEvents || this.bytes >= this.opts.maxBytes;
  }

  /** Plans the next departure: at once if the last batch left long enough ago, else after the linger. */
  private schedule(): void {
    if (this.timer || this.soon || this.inFlight > 0 || this.waiting.length === 0) return;
    const wait = this.lastSentAt + this.opts.lingerMs - performance.now();
    if (wait <= 0) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        this.sendNow();
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.sendNow();
      }, wait);
    }
  }

  private sendNow(): void {
    if (this.waiting.length === 0 || this.inFlight >= this.maxInFlight) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    let take = 0;
    let bytes = 0;
    for (const next of this.waiting) {
      if (take >= this.opts.maxEvents || (take > 0 && bytes + next.bytes > this.opts.maxBytes))
        break;
      bytes += next.bytes;
      take++;
    }
    const batch = this.waiting.splice(0, take);
    this.bytes -= bytes;
    this.inFlight++;
    this.lastSentAt = performance.now();
    settleWithin(this.send(batch.map((w) => w.envelope)), this.opts.sendTimeoutMs)
      .then(
        () => batch.forEach((w) => w.resolve()),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        this.inFlight--;
        if (this.full()) this.sendNow();
        else this.schedule();
      });
    // Several full batches may be waiting behind this one (a burst): send them too, in order.
    if (this.full()) this.sendNow();
  }
}

/** `work`, or a rejection after `ms` if it has not settled by then (no bound without `ms`). */
function settleWithin<T>(work: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return work;
  return within(work, ms, (): never => {
    throw new Error(`delivery batch not stored within ${ms} ms`);
  });
}
