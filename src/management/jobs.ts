import type { Job, Queue } from 'bullmq';
import { GatewayError } from '../errors';

/** The two queues an operator steers: socket delivery, and server-side handlers. */
export type QueueKind = 'delivery' | 'handlers';

export interface QueuePair {
  delivery: Queue;
  handlers: Queue;
}

export interface FailedJob {
  queue: QueueKind;
  id: string;
  /** Delivery: the event name. Handlers: the handler name. */
  name: string;
  event: string | undefined;
  eventId: string | undefined;
  attemptsMade: number;
  failedReason: string;
  failedAt: number | undefined;
}

function describe(queue: QueueKind, job: Job): FailedJob {
  const data = job.data as { event?: string; id?: string; meta?: { id?: string } } | undefined;
  return {
    queue,
    id: String(job.id),
    name: job.name,
    event: data?.event,
    eventId: data?.meta?.id ?? data?.id,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason ?? '',
    failedAt: job.finishedOn,
  };
}

function pick(queues: QueuePair, kind: QueueKind | undefined): Array<[QueueKind, Queue]> {
  return kind ? [[kind, queues[kind]]] : [['delivery', queues.delivery], ['handlers', queues.handlers]];
}

/** Failed jobs (newest first), from one queue or both: what `sb failed list` shows. */
export async function listFailed(queues: QueuePair, opts: { queue?: QueueKind; limit: number }): Promise<FailedJob[]> {
  const out: FailedJob[] = [];
  for (const [kind, queue] of pick(queues, opts.queue)) {
    const jobs = await queue.getFailed(0, opts.limit - 1);
    out.push(...jobs.filter((j): j is Job => j !== undefined).map((j) => describe(kind, j)));
  }
  return out.sort((a, b) => (b.failedAt ?? 0) - (a.failedAt ?? 0)).slice(0, opts.limit);
}

/** Moves failed jobs back to waiting: one by id, or every failed job of one queue or both. */
export async function retryFailed(
  queues: QueuePair,
  target: { queue: QueueKind; id: string } | { all: true; queue?: QueueKind },
): Promise<{ retried: number }> {
  if ('id' in target) {
    const job = await queues[target.queue].getJob(target.id);
    if (!job) throw new GatewayError('not_found', `no job ${target.id} in the ${target.queue} queue`);
    if (!(await job.isFailed())) throw new GatewayError('invalid_argument', `job ${target.id} has not failed`);
    await job.retry('failed');
    return { retried: 1 };
  }
  let retried = 0;
  for (const [, queue] of pick(queues, target.queue)) {
    retried += await queue.getJobCountByTypes('failed');
    await queue.retryJobs({ state: 'failed', count: 1000 });
  }
  return { retried };
}

export interface QueueStatus {
  queue: QueueKind;
  paused: boolean;
  counts: Record<string, number>;
}

export async function queueStatus(queues: QueuePair): Promise<QueueStatus[]> {
  return Promise.all(
    pick(queues, undefined).map(async ([kind, queue]) => ({
      queue: kind,
      paused: await queue.isPaused(),
      counts: await queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'prioritized'),
    })),
  );
}

/**
 * Pauses or resumes processing on every worker (BullMQ's global pause): accepted events keep
 * queuing while paused and are delivered in order once resumed.
 */
export async function setPaused(queues: QueuePair, paused: boolean, kind?: QueueKind): Promise<QueueStatus[]> {
  for (const [, queue] of pick(queues, kind)) await (paused ? queue.pause() : queue.resume());
  return queueStatus(queues);
}
