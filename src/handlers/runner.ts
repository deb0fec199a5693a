import path from 'node:path';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EventMeta, EventName } from '../catalog';
import { queueNames } from '../delivery/batch';
import type { EmitItem } from '../delivery/batch-emitter';
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
  return queueNames(deliveryQueue).handlers;
}

/** A job of one handler for one event: what a failure in a batch becomes, retried on its own. */
export interface HandlerJob {
  handler: string;
  event: string;
  data: unknown;
  meta: EventMeta;
}

/** The job of one delivered batch: its events that have handlers, in delivery order. */
export interface HandlerBatchJob {
  events: EmitItem[];
}

/** Name of the per-batch job; handler names cannot contain '.', so no handler is called this. */
export const HANDLER_BATCH_JOB = 'batch.handlers';

export interface HandlerRunnerOptions {
  redis: Redis;
  keys: Keys;
  queueName: string;
  dir: string;
  concurrency: number;
  attempts: number;
}

/**
 * Runs the discovered handlers. After a batch is emitted, `dispatch` adds ONE job for the whole
 * batch (not one per event). A worker on the handler queue runs each handler over the batch's
 * events, handlers side by side and each handler's events in order. An event that fails in a
 * handler becomes a job of its own for that (event, handler), retried with backoff and kept when
 * it fails for good (`sb failed list`); the handler's other events are not run again, and the
 * emit is never repeated (it happened before dispatch).
 */
export class HandlerRunner {
  readonly handlers: readonly EventHandler[];
  readonly queue: Queue;
  private readonly byEvent = new Map<string, EventHandler[]>();
  private readonly byName: Map<string, EventHandler>;
  private worker: Worker | undefined;

  constructor(private readonly opts: HandlerRunnerOptions) {
    this.handlers = discoverHandlers(opts.dir);
    for (const h of this.handlers) for (const e of h.events) this.byEvent.set(e, [...(this.byEvent.get(e) ?? []), h]);
    this.byName = new Map(this.handlers.map((h) => [h.name, h]));
    this.queue = new Queue(handlerQueueName(opts.queueName), { connection: opts.redis, prefix: opts.keys.bullPrefix });
    this.queue.on('error', (err) => log.warn({ err: err.message }, 'handler queue error'));
  }

  /** Records what was discovered (for `sb handlers`), then consumes handler jobs if any handler exists. */
  async start(): Promise<void> {
    await recordHandlers(this.opts.redis, this.opts.keys, this.handlers);
    if (this.handlers.length === 0) return;
    this.worker = new Worker(handlerQueueName(this.opts.queueName), (job: Job) => this.run(job), {
      connection: this.opts.redis,
      prefix: this.opts.keys.bullPrefix,
      concurrency: this.opts.concurrency,
    });
    this.worker.on('failed', (job, err) =>
      log.warn({ job: job?.id, handler: job?.name, attempt: job?.attemptsMade, err: err.message }, 'handler job failed'),
    );
    this.worker.on('error', (err) => log.warn({ err: err.message }, 'handler worker error'));
    await this.worker.waitUntilReady();
  }

  /**
   * Adds the handler job of one emitted batch, if any of its events has a handler. The job id is
   * the batch's, so a retried delivery does not add a second job while the first is kept.
   */
  async dispatch(batchId: string, items: readonly EmitItem[]): Promise<void> {
    const events = items.filter((item) => this.byEvent.has(item.event));
    if (events.length === 0) return;
    const data: HandlerBatchJob = { events };
    await this.queue.add(HANDLER_BATCH_JOB, data, { ...this.jobOptions(), jobId: `b.${batchId}` });
  }

  private jobOptions() {
    return {
      attempts: this.opts.attempts,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: true,
      removeOnFail: { count: 10_000 },
    } as const;
  }

  private async run(job: Job): Promise<void> {
    if (job.name === HANDLER_BATCH_JOB) return this.runBatch((job.data as HandlerBatchJob).events);
    const data = job.data as HandlerJob;
    const handler = this.byName.get(data.handler);
    if (!handler) throw new UnrecoverableError(`no handler named ${data.handler} in this worker`);
    await this.call(handler, { event: data.event, data: data.data, meta: data.meta });
  }

  /** Each handler over its events of the batch; failures become per-event jobs (retried, listed). */
  private async runBatch(events: EmitItem[]): Promise<void> {
    const failed: HandlerJob[] = [];
    await Promise.all(
      this.handlers.map(async (handler) => {
        for (const item of events) {
          if (!handler.events.includes(item.event as EventName)) continue;
          try {
            await this.call(handler, item);
          } catch (err) {
            log.warn({ handler: handler.name, eventId: item.meta.id, err: (err as Error).message }, 'handler failed in a batch; retrying it alone');
            failed.push({ handler: handler.name, event: item.event, data: item.data, meta: item.meta });
          }
        }
      }),
    );
    if (failed.length === 0) return;
    // The first attempt was the one in the batch: the job starts after the first backoff step.
    await this.queue.addBulk(
      failed.map((f) => ({
        name: f.handler,
        data: f,
        opts: { ...this.jobOptions(), jobId: `${f.meta.id}.${f.handler}`, delay: 500 },
      })),
    );
  }

  private call(handler: EventHandler, item: EmitItem): Promise<void> {
    const event = { name: item.event, data: item.data, meta: item.meta } as HandledEvent<EventName>;
    return handler.handle(event, { redis: this.opts.redis, keys: this.opts.keys, log: log.child({ handler: handler.name }) });
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
