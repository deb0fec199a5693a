import { Histogram } from 'prom-client';
import type { BatchEmitResult } from '../delivery/batch-emitter';
import { ProcessMetrics } from './process-metrics';
import { DELIVERY_BUCKETS, eventLabel, PREFIX } from './registry';

/**
 * The metrics of one worker process, on a registry of its own. Each method is one hook the worker
 * wires in; the `event` label is a catalog name (or `unknown`), never a room or an id.
 */
export class WorkerMetrics extends ProcessMetrics {
  private readonly delivered = this.counter(
    'events_delivered_total',
    'Events published to the gateways (a throttle window counts once; a re-run that published nothing does not count)',
    ['event'],
  );

  private readonly failed = this.counter(
    'events_failed_total',
    'Events set aside as undeliverable, or in a delivery job that failed for good',
    ['event'],
  );

  private readonly latency = new Histogram({
    name: `${PREFIX}delivery_seconds`,
    help: "Seconds from accept (the event's ts) to its publish to the gateways (emit script returned); throttled windows left out",
    buckets: DELIVERY_BUCKETS,
    registers: [this.registry],
  });

  /**
   * Hook of the emitter, after its script returned. Events of a throttle window (`meta.coalesced`)
   * waited their window on purpose: they are counted but not timed.
   */
  emitted(result: BatchEmitResult, now = Date.now()): void {
    if (result.replayed) return;
    for (const { event, meta } of result.items) {
      this.delivered.inc({ event });
      // Accept and publish may run on two hosts: clock skew must not make a negative duration.
      if (meta.coalesced === undefined) this.latency.observe(Math.max(0, now - meta.ts) / 1000);
    }
  }

  /** Hook of the worker and the flusher: events that can never be delivered (another catalog refused them). */
  undeliverable(event: unknown, count = 1): void {
    this.failed.inc({ event: eventLabel(event) }, count);
  }
}
