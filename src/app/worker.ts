import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../config';
import { BatchEmitter } from '../delivery/batch-emitter';
import { batchJob, UndeliverableEvents } from '../delivery/batch-job';
import { DEFAULT_HANDLERS_DIR, HandlerRunner } from '../handlers/runner';
import { bounded, pingCheck, readiness, type Readiness } from '../health/readiness';
import type { RunningProcess } from '../lifecycle/run-process';
import { SelfHeal } from '../lifecycle/self-heal';
import { logger } from '../logger';
import { JobControl } from '../management/jobs';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { ThrottleFlusher } from '../throttle/flusher';
import {
  EMIT_CLAIMED_JOB,
  emitClaimedJob,
  throttleJob,
  SWEEP_SCHEDULER_ID,
  upsertSweepScheduler,
} from '../throttle/jobs';
import { ThrottleStore } from '../throttle/store';
import { closeRedis, connectRedis } from '../redis/connections';
import { createKeys } from '../redis/keys';
import { openQueue } from '../redis/queue';
import { queueNames } from '../wire/delivery-batch';

const log = logger('worker');

/**
 * `ready()`: `redis` (PING on its connection), `pubsub` (a PUBLISH, what every emit ends with, goes
 * through) and `workers` (the delivery and throttle BullMQ workers are running). `close()` stops
 * taking jobs, waits for the ones in flight and closes every connection.
 */
export interface WorkerProcess extends RunningProcess<WorkerMetrics, Readiness> {
  /** Consumes delivery batches, one at a time (keeps a producer's order across batches). */
  readonly worker: Worker;
  /** Consumes throttle-store jobs (window flushes, the sweep), WORKER_CONCURRENCY at once. */
  readonly throttleWorker: Worker;
  readonly handlers: HandlerRunner;
  readonly emitter: BatchEmitter;
  readonly flusher: ThrottleFlusher;
  readonly throttle: ThrottleStore;
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

/**
 * A worker process as deployed (workers/main.ts runs it): delivery batches are emitted into their
 * namespace rooms on every gateway, one Lua call per batch that also hands their handler work to
 * the handler inbox; throttle-store jobs flush throttled windows through the same emitter. The
 * connection, keys and queues are opened here once; the parts take only what they use.
 */
export async function openWorker(config: WorkerConfig): Promise<WorkerProcess> {
  const keys = createKeys(config.KEY_PREFIX);
  const names = queueNames(config.QUEUE_NAME);
  // One connection for BullMQ's commands and our emits; each BullMQ worker duplicates it for its
  // blocking wait. Not auto-pipelined: with enableAutoPipelining on this connection BullMQ's Lua
  // commands failed ("pipeline[name] is not a function"); and the delivery worker's commands run
  // one after another, so there is little to coalesce.
  const redis = await connectRedis(config, 'worker', 'sb-worker', config.REDIS_CONNECT_TIMEOUT_MS);
  const metrics = new WorkerMetrics();
  metrics.watchRedis(redis, 'worker');
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
  const throttle = new ThrottleStore(redis, keys);
  await throttle.ready();
  const flusher = new ThrottleFlusher(
    throttle,
    emitter,
    config.FLUSH_PAUSE_AFTER_CLAIM_MS,
    (event) => metrics.undeliverable(event),
  );
  const jobs = new JobControl(redis, keys, config.QUEUE_NAME);
  metrics.observeDeployment({
    throttleWindows: () => throttle.indexSize(),
    queues: () => jobs.status(),
  });

  const emitClaimed = emitClaimedJob({ throttle, flusher });
  const emitBatch = batchJob({
    emitter,
    validate: config.WORKER_VALIDATE,
    onUndeliverable: (event) => metrics.undeliverable(event),
  });
  const deliver = (job: Job) => (job.name === EMIT_CLAIMED_JOB ? emitClaimed(job) : emitBatch(job));
  const runThrottle = throttleJob({ throttle, flusher, sweepGraceMs: config.SWEEP_GRACE_MS });

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
  const throttleWorker = new Worker(names.throttle, runThrottle, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: config.WORKER_CONCURRENCY,
    ...lock,
  });
  for (const w of [worker, throttleWorker]) {
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
  await Promise.all([worker.waitUntilReady(), throttleWorker.waitUntilReady()]);
  await handlers.start();
  log.info({ handlers: handlers.handlers.map((h) => h.name) }, 'handlers loaded');
  // The sweep is scheduled by every worker; upserting the same scheduler id keeps it at one.
  const throttleQueue = openQueue(names.throttle, redis, keys);
  await upsertSweepScheduler(throttleQueue, config.SWEEP_INTERVAL_MS);
  // What this worker wrote once, put back if Redis loses its data (the inbox's group heals itself).
  const heal = new SelfHeal(
    [
      {
        name: 'sweep scheduler',
        inPlace: async () =>
          (await throttleQueue.getJobScheduler(SWEEP_SCHEDULER_ID)) !== undefined,
        rebuild: () =>
          upsertSweepScheduler(throttleQueue, config.SWEEP_INTERVAL_MS).then(() => undefined),
      },
      handlers.registryState(),
    ],
    config.SELF_HEAL_INTERVAL_MS,
  );
  heal.start();

  return {
    worker,
    throttleWorker,
    handlers,
    emitter,
    flusher,
    throttle,
    metrics,
    async ready() {
      const running = worker.isRunning() && throttleWorker.isRunning();
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
      await Promise.all([worker.close(), throttleWorker.close()]);
      await handlers.close();
      await throttleQueue.close();
      await jobs.close();
      await closeRedis(redis);
    },
  };
}
