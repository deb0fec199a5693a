/**
 * Diagnostic worker process (forked with IPC; config from the environment). The same job handling
 * as workers/delivery-worker.ts (checkEnvelope + RoomPublisher on one auto-pipelined connection),
 * plus timestamps: send -> job active in this worker, send -> PUBLISH acknowledged by Redis.
 * argv[2] is a JSON object of extra BullMQ Worker options, to compare settings side by side.
 * Used only by the breakdown scenario; the e2e figures come from the real worker entry point.
 */
import { Worker, type Job, type WorkerOptions } from 'bullmq';
import { loadConfig } from '../../src/config';
import { RoomPublisher } from '../../src/delivery/room-publisher';
import type { Envelope } from '../../src/events/envelope';
import { connectRedis } from '../../src/redis/connections';
import { createKeys } from '../../src/redis/keys';
import { checkEnvelope } from '../../workers/delivery-worker';
import { decodeNote } from './protocol';
import { serve } from './procs';
import { clock, Histogram } from './stats';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const extra = JSON.parse(process.argv[2] ?? '{}') as Partial<WorkerOptions>;
  const keys = createKeys(config.KEY_PREFIX);
  const redis = await connectRedis(config.REDIS_URL, 'worker', 'sb-bench-probe');
  const publisher = new RoomPublisher(redis, keys, config);
  let active = new Histogram();
  let published = new Histogram();
  let handlerMs = new Histogram();
  let maxInFlight = 0;
  let inFlight = 0;

  const deliverOne = async (raw: unknown) => {
    const start = clock();
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    const sentAt = decodeNote(((raw as Envelope).data as { note?: unknown })?.note)?.sentAt;
    if (sentAt !== undefined) active.record(start - sentAt);
    try {
      const envelope = checkEnvelope(raw);
      const meta = { id: envelope.id, ts: envelope.ts, ns: envelope.ns, room: envelope.room };
      await publisher.emit(envelope.ns, envelope.room, envelope.event, envelope.data, meta);
    } finally {
      inFlight--;
    }
    const end = clock();
    handlerMs.record(end - start);
    if (sentAt !== undefined) published.record(end - sentAt);
  };

  // PROTOTYPE: a job may carry a batch of envelopes; their PUBLISHes share one auto-pipeline flush.
  const deliver = async (job: Job<Envelope | { batch: unknown[] }>) => {
    const data = job.data as { batch?: unknown[] };
    if (Array.isArray(data.batch)) await Promise.all(data.batch.map(deliverOne));
    else await deliverOne(job.data);
  };

  const worker = new Worker<Envelope | { batch: unknown[] }>(config.QUEUE_NAME, deliver, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: config.WORKER_CONCURRENCY,
    ...extra,
  });
  worker.on('error', (err) => process.stderr.write(`probe worker error: ${err.message}\n`));
  await worker.waitUntilReady();

  serve({
    reset: () => {
      active = new Histogram();
      published = new Histogram();
      handlerMs = new Histogram();
      maxInFlight = 0;
      return true;
    },
    stats: () => ({ active: active.summary(), published: published.summary(), handler: handlerMs.summary(), maxInFlight }),
  });
  process.stdout.write(`worker ready ${JSON.stringify(extra)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`probe worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
