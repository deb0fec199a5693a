import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../src/config';
import { queueNames } from '../src/wire/delivery-batch';
import { BatchEmitter } from '../src/delivery/batch-emitter';
import { readBatch } from '../src/delivery/batch-reader';
import { bounded, pingCheck, readiness, type Readiness } from '../src/health/readiness';
import { logger } from '../src/logger';
import { JobControl } from '../src/management/jobs';
import { WorkerMetrics } from '../src/metrics/worker-metrics';
import { connectRedis, closeRedis } from '../src/redis/connections';
import { createKeys } from '../src/redis/keys';
import { DEFAULT_HANDLERS_DIR, HandlerRunner } from '../src/handlers/runner';
import { PendingFlusher } from '../src/pending/flusher';
import { SelfHeal } from '../src/lifecycle/self-heal';
import {
  EMIT_CLAIMED_JOB,
  EmitClaimedJobSchema,
  FLUSH_JOB,
  FlushJobSchema,
  SWEEP_JOB,
  SWEEP_SCHEDULER_ID,
  upsertSweepScheduler,
} from '../src/pending/jobs';
import { PendingStore } from '../src/pending/store';
import { sweepPending } from '../src/pending/sweep';

import type { RunningProcess } from '../src/lifecycle/run-process';
import { openQueue } from '../src/redis/queue';

const log = logger('worker');

/**
 * `ready()`: `redis` (PING on its connection), `pubsub` (a PUBLISH, what every emit ends with, goes
 * through) and `workers` (the delivery and pending BullMQ workers are running). `close()` stops
 * taking jobs, waits for the ones in flight and closes every connection.
 */
export interface DeliveryWorker extends RunningProcess<WorkerMetrics, Readiness> {
  /** Consumes delivery batches, one at a time (keeps a producer's order across batches). */
  readonly worker: Worker;
  /** Consumes pending-store jobs (window flushes, the sweep), WORKER_CONCURRENCY at once. */
  readonly pendingWorker: Worker;
  readonly handlers: HandlerRunner;
  readonly emitter: BatchEmitter;
  readonly flusher: PendingFlusher;
  readonly pending: PendingStore;
}

type WorkerConfig = Pick<
  Config,
  | 'REDIS_URL'
  | 'REDIS_MODE'
  | 'KEY_PREFIX'
  | 'QUEUE_NAME'
  | 'WORKER_CONCURRENCY'
  | 'WORKER_LOCK_MS'
  | 'WORKER_VALIDATE'
  | 'EMIT_MARKER_TTL_MS'
  | 'REDIS_CONNECT_TIMEOUT_MS'
  | 'HANDLERS_DIR'
  | 'HANDLER_CONCURRENCY'
  | 'HANDLER_ATTEMPTS'
  | 'HANDLER_LINGER_MS'
  | 'HISTORY_MAX_LEN'
  | 'HISTORY_MAX_AGE_MS'
  | 'SWEEP_INTERVAL_MS'
  | 'SWEEP_GRACE_MS'
  | 'SELF_HEAL_INTERVAL_MS'
  | 'FLUSH_PAUSE_AFTER_CLAIM_MS'
>;

/** A delivery job kept as failed because some of its events can never be delivered (its others were). */
class UndeliverableEvents extends UnrecoverableError {}

/**
 * Starts the worker side: delivery batches are emitted into their namespace rooms on every gateway,
 * one Lua call per batch that also hands their handler work to the handler inbox; pending-store
 * jobs flush throttled windows through the same emitter.
 */
export async function startDeliveryWorker(config: WorkerConfig): Promise<DeliveryWorker> {
  const keys = createKeys(config.KEY_PREFIX);
  const names = queueNames(config.QUEUE_NAME);
  // One connection for BullMQ's commands and our emits (auto-pipelined together); each BullMQ
  // worker duplicates it for its blocking wait.
  const redis = await connectRedis(config, 'worker', 'sb-worker', config.REDIS_CONNECT_TIMEOUT_MS);
  const metrics = new WorkerMetrics();
  const handlers = new HandlerRunner({
    redis,
    keys,
    queueName: config.QUEUE_NAME,
    dir: config.HANDLERS_DIR ?? DEFAULT_HANDLERS_DIR,
    concurrency: config.HANDLER_CONCURRENCY,
    attempts: config.HANDLER_ATTEMPTS,
    reclaimAfterMs: config.WORKER_LOCK_MS,
    lingerMs: config.HANDLER_LINGER_MS,
  });
  const emitter = new BatchEmitter(
    redis,
    keys,
    config,
    (items) => handlers.workFor(items),
    (result) => metrics.emitted(result),
  );
  await emitter.ready();
  const pending = new PendingStore(redis, keys);
  await pending.ready();
  const flusher = new PendingFlusher(pending, emitter, config.FLUSH_PAUSE_AFTER_CLAIM_MS, (event) =>
    metrics.undeliverable(event),
  );
  const jobs = new JobControl(redis, keys, config.QUEUE_NAME);
  metrics.observeDeployment({
    pendingWindows: () => pending.indexSize(),
    queues: () => jobs.status(),
  });

  /** Windows an operator flushed (claimed by the management core): one batch. */
  const emitClaimed = async (job: Job) => {
    const data = EmitClaimedJobSchema.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError('malformed emit job');
    const claims = await Promise.all(data.data.claims.map((ref) => pending.readClaim(ref)));
    await flusher.emitClaimedMany(claims.filter((c) => c !== undefined));
  };

  const deliver = async (job: Job) => {
    if (job.name === EMIT_CLAIMED_JOB) return emitClaimed(job);
    let batch;
    try {
      batch = readBatch(job.data, config.WORKER_VALIDATE);
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    // One script call: history, publish, handler work. Its marker makes a re-run of this job
    // (stalled, retried) publish nothing a second time.
    if (batch.items.length > 0) await emitter.emit(batch.id, batch.items);
    const [first] = batch.rejected;
    if (first) {
      for (const rejected of batch.rejected) metrics.undeliverable(rejected.event);
      // Kept as failed (visible in `sb failed list`); its valid events were delivered above.
      throw new UndeliverableEvents(
        `${batch.rejected.length} event(s) not deliverable, e.g. ${first.event} ${first.id}: ${first.reason}`,
      );
    }
  };

  const runPending = async (job: Job) => {
    if (job.name === FLUSH_JOB) {
      const data = FlushJobSchema.safeParse(job.data);
      if (!data.success) throw new UnrecoverableError('malformed flush job');
      await flusher.flush(data.data.pendingId, data.data.windowId);
      return;
    }
    if (job.name === SWEEP_JOB) {
      await sweepPending(pending, flusher, config.SWEEP_GRACE_MS);
      return;
    }
    throw new UnrecoverableError(`unknown pending job ${job.name}`);
  };

  const lock = {
    // Bounds how long a dead worker's in-flight jobs wait before another worker re-runs them.
    lockDuration: config.WORKER_LOCK_MS,
    stalledInterval: config.WORKER_LOCK_MS,
  };
  const worker = new Worker(names.delivery, deliver, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: 1,
    ...lock,
  });
  const pendingWorker = new Worker(names.pending, runPending, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: config.WORKER_CONCURRENCY,
    ...lock,
  });
  for (const w of [worker, pendingWorker]) {
    w.on('failed', (job, err) => {
      if (
        job &&
        (err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1))
      ) {
        log.error(
          { queue: w.name, jobId: job.id, job: job.name, err: err.message },
          'job failed for good',
        );
        // A delivery batch's events are lost unless an operator retries the job. (Its set-aside
        // events were counted already; a failed window's claim is finished by the sweep.)
        const events = (job.data as { events?: unknown } | undefined)?.events;
        if (w === worker && !(err instanceof UndeliverableEvents) && Array.isArray(events)) {
          for (const e of events) metrics.undeliverable((e as { event?: unknown } | null)?.event);
        }
      }
    });
    w.on('error', (err) => log.warn({ queue: w.name, err: err.message }, 'worker error'));
  }
  await Promise.all([worker.waitUntilReady(), pendingWorker.waitUntilReady()]);
  await handlers.start();
  log.info({ handlers: handlers.handlers.map((h) => h.name) }, 'handlers loaded');
  // The sweep is scheduled by every worker; upserting the same scheduler id keeps it at one.
  const pendingQueue = openQueue(names.pending, redis, keys);
  await upsertSweepScheduler(pendingQueue, config.SWEEP_INTERVAL_MS);
  // What this worker wrote once, put back if Redis loses its data (the inbox's group heals itself).
  const heal = new SelfHeal(
    [
      {
        name: 'sweep scheduler',
        inPlace: async () => (await pendingQueue.getJobScheduler(SWEEP_SCHEDULER_ID)) !== undefined,
        rebuild: () =>
          upsertSweepScheduler(pendingQueue, config.SWEEP_INTERVAL_MS).then(() => undefined),
      },
      handlers.registryState(),
    ],
    config.SELF_HEAL_INTERVAL_MS,
  );
  heal.start();

  return {
    worker,
    pendingWorker,
    handlers,
    emitter,
    flusher,
    pending,
    metrics,
    async ready() {
      const running = worker.isRunning() && pendingWorker.isRunning();
      const [ping, pubsub] = await Promise.all([
        pingCheck(redis),
        redis.status === 'ready'
          ? bounded(redis.publish(keys.readinessProbe('worker'), 'ping'))
          : redis.status,
      ]);
      return readiness({
        redis: ping,
        pubsub,
        workers: running ? 'ok' : 'stopped',
        inbox: handlers.inboxState(),
        state: heal.state(),
      });
    },
    async close() {
      await heal.stop();
      await Promise.all([worker.close(), pendingWorker.close()]);
      await handlers.close();
      await pendingQueue.close();
      await jobs.close();
      await closeRedis(redis);
    },
  };
}
