import type { JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';

/**
 * The pending store's BullMQ jobs, in the same queue as deliveries. Their names contain '-', which
 * event names (snake_case) never do, so the worker can tell them apart.
 */
export const FLUSH_JOB = 'pending-flush';
export const SWEEP_JOB = 'pending-sweep';
export const SWEEP_SCHEDULER_ID = 'pending-sweep';

export const FlushJobSchema = z.object({ pendingId: z.string().min(1).max(400), windowId: z.string().min(1).max(64) });
export type FlushJobData = z.infer<typeof FlushJobSchema>;

/**
 * Deterministic job id per window (BullMQ refuses ':' in custom ids; window ids are UUIDs), so a
 * window schedules at most one flush at its end, and at most one early flush when a batch fills.
 */
export function flushJobId(windowId: string, early = false): string {
  return `${early ? 'flushnow' : 'flush'}-${windowId}`;
}

export function scheduleFlush(queue: Queue, data: FlushJobData, delayMs: number, options: JobsOptions, early = false): Promise<unknown> {
  return queue.add(FLUSH_JOB, data, { ...options, jobId: flushJobId(data.windowId, early), delay: Math.max(0, delayMs) });
}

/** Registers (or updates) the sweep's job scheduler; every worker calls it, the result is one scheduler. */
export function upsertSweepScheduler(queue: Queue, everyMs: number): Promise<unknown> {
  return queue.upsertJobScheduler(SWEEP_SCHEDULER_ID, { every: everyMs }, {
    name: SWEEP_JOB,
    data: {},
    opts: { removeOnComplete: true, removeOnFail: { count: 100 } },
  });
}
