import { UnrecoverableError, type Job, type JobsOptions, type Queue } from 'bullmq';
import { z } from 'zod';
import type { ThrottleFlusher } from './flusher';
import type { ClaimRef, ThrottleStore } from './store';
import { sweepWindows } from './sweep';

/**
 * The throttle store's BullMQ jobs. A window's flush at its end and the sweep run in their own queue
 * (`<QUEUE_NAME>-throttle`, see wire/delivery-batch.ts), WORKER_CONCURRENCY at once per worker. Windows
 * an operator flushed are claimed by the management core and handed to the delivery queue, up to
 * 500 a job, where a worker emits them as one batch like every other emit, handlers included.
 */
export const FLUSH_JOB = 'throttle-flush';
export const SWEEP_JOB = 'throttle-sweep';
export const EMIT_CLAIMED_JOB = 'throttle-emit';
export const SWEEP_SCHEDULER_ID = 'throttle-sweep';

export const FlushJobSchema = z.object({
  throttleKey: z.string().min(1).max(400),
  windowId: z.string().min(1).max(64),
});
export type FlushJobData = z.infer<typeof FlushJobSchema>;
/** Claimed windows by their place in the throttle store (shard and window id). */
export const EmitClaimedJobSchema = z.object({
  claims: z
    .array(z.object({ shard: z.number().int().nonnegative(), windowId: z.string().min(1).max(64) }))
    .min(1)
    .max(500),
});

/** Hands claimed windows (at most 500) to the workers as one delivery job. */
export function addEmitClaimed(
  deliveryQueue: Queue,
  claims: ClaimRef[],
  options: JobsOptions,
): Promise<unknown> {
  return deliveryQueue.add(EMIT_CLAIMED_JOB, { claims }, options);
}

/**
 * Deterministic job id per window (BullMQ refuses ':' in custom ids; window ids are UUIDs), so a
 * window schedules at most one flush at its end, and at most one early flush when a batch fills.
 */
export function flushJobId(windowId: string, early = false): string {
  return `${early ? 'flushnow' : 'flush'}-${windowId}`;
}

export function scheduleFlush(
  queue: Queue,
  data: FlushJobData,
  delayMs: number,
  options: JobsOptions,
  early = false,
): Promise<unknown> {
  return queue.add(FLUSH_JOB, data, {
    ...options,
    jobId: flushJobId(data.windowId, early),
    delay: Math.max(0, delayMs),
  });
}

/** Registers (or updates) the sweep's job scheduler; every worker calls it, the result is one scheduler. */
export function upsertSweepScheduler(queue: Queue, everyMs: number): Promise<unknown> {
  return queue.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: everyMs },
    {
      name: SWEEP_JOB,
      data: {},
      opts: { removeOnComplete: true, removeOnFail: { count: 100 } },
    },
  );
}

export interface ThrottleJobParts {
  throttle: ThrottleStore;
  flusher: ThrottleFlusher;
  /** SWEEP_GRACE_MS: how far past its end a window must be before the sweep flushes it. */
  sweepGraceMs: number;
}

/** Runs the throttle queue's jobs: a window's flush at its end, and the sweep. */
export function throttleJob({ throttle, flusher, sweepGraceMs }: ThrottleJobParts) {
  return async (job: Job): Promise<void> => {
    if (job.name === FLUSH_JOB) {
      const data = FlushJobSchema.safeParse(job.data);
      if (!data.success) throw new UnrecoverableError('malformed flush job');
      await flusher.flush(data.data.throttleKey, data.data.windowId);
      return;
    }
    if (job.name === SWEEP_JOB) {
      await sweepWindows(throttle, flusher, sweepGraceMs);
      return;
    }
    throw new UnrecoverableError(`unknown throttle job ${job.name}`);
  };
}

/** Runs a delivery-queue job of windows an operator flushed (claimed by the management core): one batch. */
export function emitClaimedJob({ throttle, flusher }: Omit<ThrottleJobParts, 'sweepGraceMs'>) {
  return async (job: Job): Promise<void> => {
    const data = EmitClaimedJobSchema.safeParse(job.data);
    if (!data.success) throw new UnrecoverableError('malformed emit job');
    const claims = await Promise.all(data.data.claims.map((ref) => throttle.readClaim(ref)));
    await flusher.emitClaimedMany(claims.filter((c) => c !== undefined));
  };
}
