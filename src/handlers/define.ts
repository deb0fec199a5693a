import type { RedisClient } from '../redis/connections';
import type { Logger } from 'pino';
import type { DataOf, EventMeta, EventName } from '../catalog';
import type { Keys } from '../redis/keys';

/** What a handler gets besides the event: the worker's Redis connection, key names, a logger. */
export interface HandlerContext {
  redis: RedisClient;
  keys: Keys;
  log: Logger;
}

export interface HandledEvent<E extends EventName = EventName> {
  name: E;
  data: DataOf<E>;
  meta: EventMeta;
}

/**
 * A server-side handler: code that runs in the worker for each delivered event it subscribes to,
 * in its own BullMQ job (retried with backoff, kept when it fails), apart from the socket emit
 * and from every other handler. Delivery is at-least-once, so handlers should be idempotent
 * (`meta.id` is stable across retries).
 */
export interface EventHandler<E extends EventName = EventName> {
  /** Unique name: part of job ids and of `sb failed list`; letters, digits, - and _. */
  readonly name: string;
  readonly events: readonly E[];
  handle(event: HandledEvent<E>, ctx: HandlerContext): Promise<void>;
  /**
   * Optional: the events of one or more delivered batches in delivery order, in one call (e.g. one
   * MULTI instead of a round trip per event). It should apply all or nothing: if it throws, each of
   * its events is retried alone through `handle`, as its own job.
   */
  handleBatch?(events: Array<HandledEvent<E>>, ctx: HandlerContext): Promise<void>;
}

/**
 * Declares a handler in a file of the handlers folder (`workers/handlers/`): export it (any
 * export name) and the worker finds it at start-up; there is no list to edit.
 *
 * @example
 *   export const audit = defineHandler({
 *     name: 'audit', events: ['order_status_changed'],
 *     async handle({ data, meta }, { redis, keys }) { ... },
 *   });
 */
export function defineHandler<const E extends EventName>(
  handler: EventHandler<E>,
): EventHandler<E> {
  return handler;
}

export function isEventHandler(value: unknown): value is EventHandler {
  const v = value as Partial<EventHandler> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    Array.isArray(v.events) &&
    typeof v.handle === 'function'
  );
}
