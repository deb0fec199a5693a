import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { lookupEvent, type EventMeta } from '../src/catalog';
import type { Config } from '../src/config';
import { RoomPublisher } from '../src/delivery/room-publisher';
import { GatewayError } from '../src/errors';
import { EnvelopeSchema, type Envelope } from '../src/events/envelope';
import { logger } from '../src/logger';
import { connectRedis, closeRedis } from '../src/redis/connections';
import { createKeys } from '../src/redis/keys';
import { DEFAULT_HANDLERS_DIR, HandlerRunner } from '../src/handlers/runner';
import { PendingFlusher } from '../src/pending/flusher';
import { FLUSH_JOB, FlushJobSchema, SWEEP_JOB, upsertSweepScheduler } from '../src/pending/jobs';
import { PendingStore } from '../src/pending/store';
import { sweepPending } from '../src/pending/sweep';

const log = logger('worker');

export interface DeliveryWorker {
  readonly worker: Worker;
  readonly handlers: HandlerRunner;
  readonly flusher: PendingFlusher;
  readonly pending: PendingStore;
  /** Stops taking jobs, waits for the ones in flight, closes every connection. */
  close(): Promise<void>;
}

type WorkerConfig = Pick<
  Config,
  | 'REDIS_URL'
  | 'KEY_PREFIX'
  | 'QUEUE_NAME'
  | 'WORKER_CONCURRENCY'
  | 'WORKER_LOCK_MS'
  | 'REDIS_CONNECT_TIMEOUT_MS'
  | 'HANDLERS_DIR'
  | 'HANDLER_CONCURRENCY'
  | 'HANDLER_ATTEMPTS'
  | 'HISTORY_MAX_LEN'
  | 'HISTORY_MAX_AGE_MS'
  | 'SWEEP_INTERVAL_MS'
  | 'SWEEP_GRACE_MS'
  | 'FLUSH_PAUSE_AFTER_CLAIM_MS'
>;

/**
 * Validates one job's envelope against the catalog (again: producer and worker may run different
 * versions) and returns what to emit. A job that fails here can never succeed, so it is not retried.
 */
export function checkEnvelope(raw: unknown): Envelope {
  const envelope = EnvelopeSchema.safeParse(raw);
  if (!envelope.success) throw new UnrecoverableError(`malformed envelope: ${envelope.error.issues[0]?.message}`);
  let entry;
  try {
    entry = lookupEvent(envelope.data.event);
  } catch (err) {
    throw new UnrecoverableError((err as GatewayError).message);
  }
  if (entry.namespace !== envelope.data.ns) {
    throw new UnrecoverableError(`event ${entry.name} belongs to ${entry.namespace}, not ${envelope.data.ns}`);
  }
  const data = entry.schema.safeParse(envelope.data.data);
  if (!data.success) throw new UnrecoverableError(GatewayError.fromZod(data.error).message);
  return { ...envelope.data, data: data.data };
}

/**
 * Starts a BullMQ worker that emits each accepted event into its namespace room, flushes the
 * windows of throttled keys when their flush job is due, and runs the pending sweep.
 */
export async function startDeliveryWorker(config: WorkerConfig): Promise<DeliveryWorker> {
  const keys = createKeys(config.KEY_PREFIX);
  // One connection for BullMQ's commands and our PUBLISHes (auto-pipelined together); BullMQ
  // duplicates it for its blocking wait. Two connections per worker process in all.
  const redis = await connectRedis(config.REDIS_URL, 'worker', 'sb-worker', config.REDIS_CONNECT_TIMEOUT_MS);
  const publisher = new RoomPublisher(redis, keys, config);
  await publisher.ready();
  const handlers = new HandlerRunner({
    redis,
    keys,
    queueName: config.QUEUE_NAME,
    dir: config.HANDLERS_DIR ?? DEFAULT_HANDLERS_DIR,
    concurrency: config.HANDLER_CONCURRENCY,
    attempts: config.HANDLER_ATTEMPTS,
  });

  const pending = new PendingStore(redis, keys);
  const flusher = new PendingFlusher(pending, publisher, config.FLUSH_PAUSE_AFTER_CLAIM_MS, (event, data, meta) =>
    handlers.dispatch(event, data, meta),
  );

  const deliver = async (job: Job) => {
    if (job.name === FLUSH_JOB) {
      const data = FlushJobSchema.safeParse(job.data);
      if (!data.success) throw new UnrecoverableError('malformed flush job');
      await flusher.flush(data.data.pendingId, data.data.windowId);
      return;
    }
    if (job.name === SWEEP_JOB) return sweepPending(pending, flusher, config.SWEEP_GRACE_MS);
    const envelope = checkEnvelope(job.data);
    const meta: EventMeta = { id: envelope.id, ts: envelope.ts, ns: envelope.ns, room: envelope.room };
    if (envelope.coalesced !== undefined) meta.coalesced = envelope.coalesced;
    const { offset } = await publisher.emit(envelope.ns, envelope.room, envelope.event, envelope.data, meta);
    if (offset !== undefined) meta.offset = offset;
    // After the emit, never before: a handler can neither delay nor block delivery.
    await handlers.dispatch(envelope.event, envelope.data, meta);
  };

  const worker = new Worker(config.QUEUE_NAME, deliver, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: config.WORKER_CONCURRENCY,
    // Bounds how long a dead worker's in-flight events wait before another worker re-runs them.
    lockDuration: config.WORKER_LOCK_MS,
    stalledInterval: config.WORKER_LOCK_MS,
  });
  worker.on('failed', (job, err) => {
    if (job && (err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1))) {
      log.error({ jobId: job.id, event: job.name, err: err.message }, 'event delivery failed for good');
    }
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  await worker.waitUntilReady();
  await handlers.start();
  log.info({ handlers: handlers.handlers.map((h) => h.name) }, 'handlers loaded');
  // The sweep is scheduled by every worker; upserting the same scheduler id keeps it at one.
  const queue = new Queue(config.QUEUE_NAME, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));
  await upsertSweepScheduler(queue, config.SWEEP_INTERVAL_MS);

  return {
    worker,
    handlers,
    flusher,
    pending,
    async close() {
      await worker.close();
      await handlers.close();
      await queue.close();
      await closeRedis(redis);
    },
  };
}
