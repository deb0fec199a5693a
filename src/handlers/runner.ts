import path from 'node:path';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EventMeta, EventName } from '../catalog';
import { logger } from '../logger';
import type { Keys } from '../redis/keys';
import type { EventHandler, HandledEvent } from './define';
import { discoverHandlers } from './discover';
import { recordHandlers } from './registry';

const log = logger('handlers');

/** Where handler files live when HANDLERS_DIR is unset: `workers/handlers` (source or dist). */
export const DEFAULT_HANDLERS_DIR = path.resolve(__dirname, '../../workers/handlers');

/** Handler jobs have their own queue so they never delay, or are delayed by, socket delivery. */
export function handlerQueueName(deliveryQueue: string): string {
  return `${deliveryQueue}-handlers`;
}

export interface HandlerJob {
  handler: string;
  event: string;
  data: unknown;
  meta: EventMeta;
}

export interface HandlerRunnerOptions {
  redis: Redis;
  keys: Keys;
  queueName: string;
  dir: string;
  concurrency: number;
  attempts: number;
}

/**
 * Runs the discovered handlers: `dispatch` (called by the delivery worker after an emit) adds one
 * job per subscribed handler; a BullMQ worker on the handler queue runs them, each in its own job,
 * so one failing or slow handler never blocks the emit or another handler.
 */
export class HandlerRunner {
  readonly handlers: readonly EventHandler[];
  readonly queue: Queue<HandlerJob>;
  private readonly byEvent = new Map<string, EventHandler[]>();
  private worker: Worker<HandlerJob> | undefined;

  constructor(private readonly opts: HandlerRunnerOptions) {
    this.handlers = discoverHandlers(opts.dir);
    for (const h of this.handlers) for (const e of h.events) this.byEvent.set(e, [...(this.byEvent.get(e) ?? []), h]);
    this.queue = new Queue<HandlerJob>(handlerQueueName(opts.queueName), { connection: opts.redis, prefix: opts.keys.bullPrefix });
    this.queue.on('error', (err) => log.warn({ err: err.message }, 'handler queue error'));
  }

  /** Records what was discovered (for `sb handlers`), then consumes handler jobs if any handler exists. */
  async start(): Promise<void> {
    await recordHandlers(this.opts.redis, this.opts.keys, this.handlers);
    if (this.handlers.length === 0) return;
    const byName = new Map(this.handlers.map((h) => [h.name, h]));
    this.worker = new Worker<HandlerJob>(
      handlerQueueName(this.opts.queueName),
      async (job: Job<HandlerJob>) => {
        const handler = byName.get(job.data.handler);
        if (!handler) throw new UnrecoverableError(`no handler named ${job.data.handler} in this worker`);
        const event = { name: job.data.event, data: job.data.data, meta: job.data.meta } as HandledEvent<EventName>;
        await handler.handle(event, { redis: this.opts.redis, keys: this.opts.keys, log: log.child({ handler: handler.name }) });
      },
      { connection: this.opts.redis, prefix: this.opts.keys.bullPrefix, concurrency: this.opts.concurrency },
    );
    this.worker.on('failed', (job, err) =>
      log.warn({ handler: job?.data.handler, eventId: job?.data.meta.id, attempt: job?.attemptsMade, err: err.message }, 'handler failed'),
    );
    this.worker.on('error', (err) => log.warn({ err: err.message }, 'handler worker error'));
    await this.worker.waitUntilReady();
  }

  /**
   * Adds the handler jobs of one delivered event. Job ids are `<event id>.<handler>`, so a retried
   * delivery does not add a second job while the first is still kept.
   */
  async dispatch(event: string, data: unknown, meta: EventMeta): Promise<void> {
    const handlers = this.byEvent.get(event);
    if (!handlers) return;
    await this.queue.addBulk(
      handlers.map((h) => ({
        name: h.name,
        data: { handler: h.name, event, data, meta },
        opts: {
          jobId: `${meta.id}.${h.name}`,
          attempts: this.opts.attempts,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: true,
          removeOnFail: { count: 10_000 },
        },
      })),
    );
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
