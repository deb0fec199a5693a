/**
 * Producer process (forked with IPC, config from the environment). Sends the bench event at a
 * paced rate on either path, with the same payload and the send time in `note`:
 * - queued:  EventManager.emitToOrder -> BullMQ job -> worker process -> adapter message.
 * - emitter: @socket.io/redis-emitter straight into the gateway's adapter channel.
 */
import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config';
import type { Envelope } from '../../src/events/envelope';
import { prepareEnvelope } from '../../src/events/event-manager';
import { newEventId } from '../../src/ids';
import { createKeys } from '../../src/redis/keys';
import { openRuntime } from '../../src/runtime';
import { BENCH_EVENT, BENCH_NS, BENCH_ORDER, BENCH_ROOM, encodeNote, type SendArgs, type SendResult } from './protocol';
import { serve } from './procs';
import { clock, Histogram } from './stats';

/** Pacing tick: small batches every few ms keep the rate smooth without a busy loop. */
const TICK_MS = 2;
/** The job options EventManager uses, for the prototype's batch jobs. */
const BATCH_JOB_OPTIONS = { backoff: { type: 'exponential', delay: 100 }, removeOnComplete: true, removeOnFail: { count: 10_000 } };

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const runtime = await openRuntime(config);
  // The emitter gets a connection of its own, as a separate publishing service would have.
  const emitterRedis = new Redis(config.REDIS_URL);
  const emitter = new Emitter(emitterRedis, { key: createKeys(config.KEY_PREFIX).adapterKey }).of(BENCH_NS);

  function send({ path, run, rate, count }: SendArgs): Promise<SendResult> {
    const accepted = new Histogram();
    const inflight: Array<Promise<unknown>> = [];
    let failed = 0;
    let sent = 0;
    let firstSendAt = 0;
    let lastSendAt = 0;

    // PROTOTYPE (path `batched`): the events of one tick, validated as EventManager does, in one job.
    let batch: Array<{ envelope: Envelope; sentAt: number }> = [];
    const flushBatch = () => {
      if (batch.length === 0) return;
      const items = batch;
      batch = [];
      const first = items[0]!.envelope;
      const job = runtime.events.queue.add('batch', { batch: items.map((i) => i.envelope) }, { ...BATCH_JOB_OPTIONS, attempts: config.JOB_ATTEMPTS, jobId: first.id });
      inflight.push(
        job.then(
          () => items.forEach((i) => accepted.record(clock() - i.sentAt)),
          () => (failed += items.length),
        ),
      );
    };

    const sendOne = (seq: number) => {
      const sentAt = clock();
      const data = { orderId: BENCH_ORDER, status: 'shipped' as const, note: encodeNote(run, seq, sentAt) };
      if (path === 'batched') {
        batch.push({ envelope: prepareEnvelope({ event: BENCH_EVENT, data, target: { orderId: BENCH_ORDER } }), sentAt });
      } else if (path === 'queued') {
        inflight.push(
          runtime.events.emitToOrder(BENCH_EVENT, BENCH_ORDER, data).then(
            () => accepted.record(clock() - sentAt),
            () => failed++,
          ),
        );
      } else {
        // Same (data, meta) shape as the worker's publish, so frames are the same size.
        const meta = { id: newEventId(), ts: Date.now(), ns: BENCH_NS, room: BENCH_ROOM };
        emitter.to(BENCH_ROOM).emit(BENCH_EVENT, data, meta);
      }
      lastSendAt = sentAt;
    };

    return new Promise((resolve) => {
      const start = clock();
      firstSendAt = start;
      const tick = () => {
        const due = Math.min(count, Math.floor(((clock() - start) * rate) / 1000) + 1);
        while (sent < due) sendOne(sent++);
        flushBatch();
        if (sent < count) {
          setTimeout(tick, TICK_MS);
          return;
        }
        void Promise.all(inflight).then(() =>
          resolve({
            sent,
            failed,
            firstSendAt,
            lastSendAt,
            ...(path !== 'emitter' ? { accepted: { hist: accepted.toSparse(), max: accepted.max, sum: accepted.sum } } : {}),
          }),
        );
      };
      tick();
    });
  }

  serve({
    send: (args: SendArgs) => send(args),
    /** Jobs left in the queue after a run (a saturated step leaves a backlog). */
    counts: () => runtime.events.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
    /** Drops a backlog so it does not load the next step (its events would be stale anyway). */
    drain: () => runtime.events.queue.drain(true),
    clock: () => clock(),
  });
  process.send?.({ event: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`producer failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
