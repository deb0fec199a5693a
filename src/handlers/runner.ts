import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { duplicateClient, type RedisClient } from '../redis/connections';
import type { EventMeta, EventName } from '../catalog';
import { queueNames } from '../wire/delivery-batch';
import type { EmitItem } from '../delivery/batch-emitter';
import { logger } from '../logger';
import type { Keys } from '../redis/keys';
import type { EventHandler, HandledEvent, HandlerContext } from './define';
import { discoverHandlers } from './discover';
import { InboxReader, type InboxEntry } from './inbox';
import type { StartupState } from '../lifecycle/self-heal';
import { recordHandlers } from './registry';
import { openQueue } from '../redis/queue';

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

export interface HandlerRunnerOptions {
  redis: RedisClient;
  keys: Keys;
  queueName: string;
  dir: string;
  concurrency: number;
  attempts: number;
  /** Inbox entries a stopped worker had read are taken over after this long. */
  reclaimAfterMs: number;
  /** Pause between inbox reads that were not full (HANDLER_LINGER_MS). */
  lingerMs: number;
}

function toHandled(item: EmitItem): HandledEvent {
  return { name: item.event, data: item.data, meta: item.meta } as HandledEvent;
}

/** One inbox entry's events: `[index in the batch, event, data, meta without offset]`. */
type InboxEvent = [number, string, unknown, EventMeta];

/**
 * Runs the discovered handlers without a BullMQ job per event, or even per batch: the emit script
 * appends each emitted batch's events that have handlers to the handler inbox, atomically with the
 * emit (`workFor` builds that entry). Every worker reads the inbox as a consumer group, many batches
 * a read, and runs each handler over the events, handlers side by side and each handler's events
 * in order. An event that fails in a handler becomes a BullMQ job of its own for that (event,
 * handler), retried with backoff and kept when it fails for good (`sb failed list`); the handler's
 * other events are not run again, and the emit is never repeated.
 */
export class HandlerRunner {
  readonly handlers: readonly EventHandler[];
  readonly queue: Queue;
  private readonly byEvent = new Map<string, EventHandler[]>();
  private readonly byName: Map<string, EventHandler>;
  private worker: Worker | undefined;
  private inbox: InboxReader | undefined;

  constructor(private readonly opts: HandlerRunnerOptions) {
    this.handlers = discoverHandlers(opts.dir);
    for (const h of this.handlers)
      for (const e of h.events) this.byEvent.set(e, [...(this.byEvent.get(e) ?? []), h]);
    this.byName = new Map(this.handlers.map((h) => [h.name, h]));
    this.queue = openQueue(handlerQueueName(opts.queueName), opts.redis, opts.keys);
  }

  /** Records what was discovered (for `sb handlers`), then reads the inbox and the retry jobs if any handler exists. */
  async start(): Promise<void> {
    await recordHandlers(this.opts.redis, this.opts.keys, this.handlers);
    if (this.handlers.length === 0) return;
    this.worker = new Worker(
      handlerQueueName(this.opts.queueName),
      (job: Job) => this.runJob(job),
      {
        connection: this.opts.redis,
        prefix: this.opts.keys.bullPrefix,
        concurrency: this.opts.concurrency,
      },
    );
    this.worker.on('failed', (job, err) =>
      log.warn(
        { job: job?.id, handler: job?.name, attempt: job?.attemptsMade, err: err.message },
        'handler job failed',
      ),
    );
    this.worker.on('error', (err) => log.warn({ err: err.message }, 'handler worker error'));
    await this.worker.waitUntilReady();
    this.inbox = new InboxReader(
      this.opts.redis,
      duplicateClient(this.opts.redis, 'sb-handler-inbox'),
      {
        key: this.opts.keys.handlerInbox,
        consumer: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
        reclaimAfterMs: this.opts.reclaimAfterMs,
        lingerMs: this.opts.lingerMs,
      },
      (entries) => this.runEntries(entries),
    );
    await this.inbox.start();
  }

  /** `ok`, or `rebuilding` while the inbox's consumer group is being created again after a data loss. */
  inboxState(): 'ok' | 'rebuilding' {
    return this.inbox && !this.inbox.healthy ? 'rebuilding' : 'ok';
  }

  /** The handler registry (`sb handlers`), written at start: put back if Redis lost it. */
  registryState(): StartupState {
    const { redis, keys } = this.opts;
    return {
      name: 'handler registry',
      inPlace: async () =>
        this.handlers.length === 0 || (await redis.exists(keys.handlerRegistry)) === 1,
      rebuild: () => recordHandlers(redis, keys, this.handlers),
    };
  }

  /**
   * The inbox entry of an emitted batch: its events that have handlers (JSON), or '' when none has.
   * Called by the emitter before its script call; offsets are added from the script's result.
   */
  workFor(items: readonly EmitItem[]): string {
    const work: InboxEvent[] = [];
    items.forEach((item, index) => {
      if (this.byEvent.has(item.event)) work.push([index, item.event, item.data, item.meta]);
    });
    return work.length === 0 ? '' : JSON.stringify(work);
  }

  private async runEntries(entries: InboxEntry[]): Promise<void> {
    const events: EmitItem[] = [];
    for (const entry of entries) {
      try {
        const offsets = (entry.fields.get('o') ?? '').split(',');
        for (const [index, event, data, meta] of JSON.parse(
          entry.fields.get('e') ?? '[]',
        ) as InboxEvent[]) {
          const offset = offsets[index];
          events.push({ event, data, meta: offset ? { ...meta, offset } : meta });
        }
      } catch (err) {
        log.error(
          { entry: entry.id, err: (err as Error).message },
          'unreadable handler inbox entry; skipped',
        );
      }
    }
    await this.runBatch(events);
  }

  private async runJob(job: Job): Promise<void> {
    const data = job.data as HandlerJob;
    const handler = this.byName.get(data.handler);
    if (!handler) throw new UnrecoverableError(`no handler named ${data.handler} in this worker`);
    await this.call(handler, { event: data.event, data: data.data, meta: data.meta });
  }

  /** Each handler over its events; failures become per-event jobs (retried, listed). */
  private async runBatch(events: EmitItem[]): Promise<void> {
    const failed: HandlerJob[] = [];
    const fail = (handler: EventHandler, item: EmitItem, err: unknown) => {
      log.warn(
        { handler: handler.name, eventId: item.meta.id, err: (err as Error).message },
        'handler failed; retrying it alone',
      );
      failed.push({ handler: handler.name, event: item.event, data: item.data, meta: item.meta });
    };
    await Promise.all(
      this.handlers.map(async (handler) => {
        const mine = events.filter((item) => handler.events.includes(item.event as EventName));
        if (mine.length === 0) return;
        if (handler.handleBatch) {
          try {
            await handler.handleBatch(mine.map(toHandled), this.contextFor(handler));
          } catch (err) {
            for (const item of mine) fail(handler, item, err);
          }
          return;
        }
        for (const item of mine) {
          try {
            await this.call(handler, item);
          } catch (err) {
            fail(handler, item, err);
          }
        }
      }),
    );
    if (failed.length === 0) return;
    // The first attempt was the one above: the job starts after the first backoff step.
    await this.queue.addBulk(
      failed.map((f) => ({
        name: f.handler,
        data: f,
        opts: {
          jobId: `${f.meta.id}.${f.handler}`,
          attempts: this.opts.attempts,
          backoff: { type: 'exponential', delay: 500 },
          delay: 500,
          removeOnComplete: true,
          removeOnFail: { count: 10_000 },
        },
      })),
    );
  }

  private call(handler: EventHandler, item: EmitItem): Promise<void> {
    return handler.handle(toHandled(item), this.contextFor(handler));
  }

  private contextFor(handler: EventHandler): HandlerContext {
    return {
      redis: this.opts.redis,
      keys: this.opts.keys,
      log: log.child({ handler: handler.name }),
    };
  }

  async close(): Promise<void> {
    await this.inbox?.close();
    await this.worker?.close();
    await this.queue.close();
  }
}
