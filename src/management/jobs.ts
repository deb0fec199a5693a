import { Queue, type Job } from 'bullmq';
import { z } from 'zod';
import type { RedisClient } from '../redis/connections';
import { GatewayError } from '../errors';
import { readHandlers } from '../handlers/registry';
import { queueNames } from '../wire/delivery-batch';
import type { Keys } from '../redis/keys';
import { openQueue } from '../redis/queue';

/** The queues an operator steers: socket delivery, throttle-store flushes, and server-side handlers. */
export const QUEUE_KINDS = ['delivery', 'throttle', 'handlers'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];
export const QueueKindSchema = z.enum(QUEUE_KINDS);

/**
 * Which failed jobs to retry: one (`queue` and `id`) or all of them (`all`, of `queue` or of every
 * queue). The admin API and the CLI both parse with it, so the rules and their messages are one.
 */
export const RetryRequestSchema = z.union(
  [
    z.object({ queue: QueueKindSchema, id: z.string().min(1).max(200) }).strict(),
    z.object({ all: z.literal(true), queue: QueueKindSchema.optional() }).strict(),
  ],
  { error: (issue) => retryProblem(issue.input) },
);
export type RetryRequest = z.output<typeof RetryRequestSchema>;

/** What a request that fits neither form lacks, in words; undefined leaves zod's own message. */
function retryProblem(input: unknown): string | undefined {
  if (input === null || typeof input !== 'object') return undefined;
  const has = (key: string) =>
    Object.hasOwn(input, key) && (input as Record<string, unknown>)[key] !== undefined;
  if (has('id') && !has('queue')) return `id needs queue (${QUEUE_KINDS.join(', ')})`;
  if (!has('id') && !has('all')) return 'needs all: true, or queue and id';
  return undefined;
}

export interface QueuePair {
  delivery: Queue;
  throttle?: Queue;
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
  const data = job.data as
    | {
        event?: string;
        id?: string;
        meta?: { id?: string };
        events?: Array<{ id?: string; event?: string; meta?: { id?: string } }>;
      }
    | undefined;
  // A batch (delivery, or a handler batch) names its events and its first event's id.
  const events = Array.isArray(data?.events) ? data.events : undefined;
  return {
    queue,
    id: String(job.id),
    name: job.name,
    event: events ? [...new Set(events.map((e) => e.event))].join(',') : data?.event,
    eventId: events ? (events[0]?.meta?.id ?? events[0]?.id) : (data?.meta?.id ?? data?.id),
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason,
    failedAt: job.finishedOn,
  };
}

function pick(queues: QueuePair, kind: QueueKind | undefined): Array<[QueueKind, Queue]> {
  const all = QUEUE_KINDS.flatMap((k): Array<[QueueKind, Queue]> =>
    queues[k] ? [[k, queues[k]]] : [],
  );
  if (!kind) return all;
  const one = all.find(([k]) => k === kind);
  if (!one) throw new GatewayError('invalid_argument', `no ${kind} queue here`);
  return [one];
}

/** Failed jobs (newest first), from one queue or both: what `sb failed list` shows. */
export async function listFailed(
  queues: QueuePair,
  opts: { queue?: QueueKind; limit: number },
): Promise<FailedJob[]> {
  const out: FailedJob[] = [];
  for (const [kind, queue] of pick(queues, opts.queue)) {
    // A job removed between BullMQ's listing and its fetch comes back as undefined.
    const jobs: Array<Job | undefined> = await queue.getFailed(0, opts.limit - 1);
    out.push(...jobs.filter((j): j is Job => j !== undefined).map((j) => describe(kind, j)));
  }
  return out.sort((a, b) => (b.failedAt ?? 0) - (a.failedAt ?? 0)).slice(0, opts.limit);
}

/** Moves failed jobs back to waiting: one by id, or every failed job of one queue or both. */
export async function retryFailed(
  queues: QueuePair,
  target: RetryRequest,
): Promise<{ retried: number }> {
  if ('id' in target) {
    const [[, queue]] = pick(queues, target.queue) as [[QueueKind, Queue]];
    const job = await queue.getJob(target.id);
    if (!job)
      throw new GatewayError('not_found', `no job ${target.id} in the ${target.queue} queue`);
    if (!(await job.isFailed()))
      throw new GatewayError('invalid_argument', `job ${target.id} has not failed`);
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
 * queuing while paused and are all delivered once resumed.
 */
export async function setPaused(
  queues: QueuePair,
  paused: boolean,
  kind?: QueueKind,
): Promise<QueueStatus[]> {
  for (const [, queue] of pick(queues, kind)) await (paused ? queue.pause() : queue.resume());
  return queueStatus(queues);
}

export interface HandlerSummary {
  /** Handlers the workers loaded, each with its events and how many of its jobs are kept as failed. */
  handlers: Array<{ name: string; events: string[]; failed: number }>;
  /** Event name -> how many handlers run for it. */
  byEvent: Record<string, number>;
}

/**
 * The job side of management (`sb failed|queue|handlers`, /admin/failed|queue|handlers): failed
 * jobs of both queues, pause and resume, and which handlers the workers run. The queues are opened
 * on first use over the caller's connection.
 */
export class JobControl {
  private opened: QueuePair | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<Keys, 'bullPrefix' | 'handlerRegistry'>,
    private readonly queueName: string,
  ) {}

  private get queues(): QueuePair {
    if (!this.opened) {
      const open = (name: string) => openQueue(name, this.redis, this.keys);
      const names = queueNames(this.queueName);
      this.opened = {
        delivery: open(names.delivery),
        throttle: open(names.throttle),
        handlers: open(names.handlers),
      };
    }
    return this.opened;
  }

  /** One of the queues (the same instances the operations use), e.g. for the Bull Board dashboard. */
  queue(kind: QueueKind): Queue {
    const [[, queue]] = pick(this.queues, kind) as [[QueueKind, Queue]];
    return queue;
  }

  listFailed(opts: { queue?: QueueKind; limit: number }): Promise<FailedJob[]> {
    return listFailed(this.queues, opts);
  }

  retryFailed(target: RetryRequest): Promise<{ retried: number }> {
    return retryFailed(this.queues, target);
  }

  status(): Promise<QueueStatus[]> {
    return queueStatus(this.queues);
  }

  setPaused(paused: boolean, queue?: QueueKind): Promise<QueueStatus[]> {
    return setPaused(this.queues, paused, queue);
  }

  async handlers(): Promise<HandlerSummary> {
    const registered = await readHandlers(this.redis, this.keys);
    const failedJobs: Array<Job | undefined> = await this.queues.handlers.getFailed(0, 9_999);
    const failedBy = new Map<string, number>();
    for (const job of failedJobs)
      if (job) failedBy.set(job.name, (failedBy.get(job.name) ?? 0) + 1);
    const byEvent: Record<string, number> = {};
    for (const h of registered) for (const e of h.events) byEvent[e] = (byEvent[e] ?? 0) + 1;
    return {
      handlers: registered.map((h) => ({ ...h, failed: failedBy.get(h.name) ?? 0 })),
      byEvent,
    };
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    await Promise.all(pick(this.opened, undefined).map(([, q]) => q.close()));
  }
}
