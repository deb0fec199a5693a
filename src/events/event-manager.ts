import type { JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from '../redis/connections';
import {
  lookupEvent,
  type ThrottleDelivery,
  resolveRoom,
  type EventName,
  type EventsWithRoom,
  type PayloadOf,
  type ROOMS,
  type TargetOf,
} from '../catalog';
import {
  helperName,
  ROOM_KINDS,
  roomParamNames,
  type HelperKind,
  type HelperName,
  type RoomKind,
  type RoomKindEntry,
} from '../catalog/room-kinds';
import type { Config } from '../config';
import { GatewayError } from '../errors';
import { newEventId } from '../ids';
import { logger } from '../logger';
import type { Keys } from '../redis/keys';
import { CATALOG_VERSION } from '../catalog/version';
import { BATCH_JOB, type DeliveryBatch } from '../wire/delivery-batch';
import { scheduleFlush } from '../throttle/jobs';
import { ThrottleStore } from '../throttle/store';
import { DeliveryBatcher } from './delivery-batcher';
import { fingerprintOf, IdempotencyStore } from './idempotency';
import type { Envelope } from '../wire/envelope';
import { within } from '../timeout';
import type { EventQueues } from '../redis/queue';

const log = logger('events');

/**
 * What an accepted emit returns: the event id clients will see as `meta.id`. For a throttled event
 * that is the id of the window it was coalesced into (every event of a window returns the same id).
 */
export interface Accepted {
  id: string;
  /** Set when an idempotency key had already been used: `id` is that earlier request's event. */
  replayed?: true;
}

export interface EmitOptions {
  /**
   * The same key within IDEMPOTENCY_TTL_MS returns the same event id and publishes once, however
   * many times (or concurrently) it is sent. Reusing a key for another event is a `conflict`.
   */
  idempotencyKey?: string;
}

/** The untyped form used by transports (HTTP publish, CLI) that receive names as strings. */
export interface PublishInput {
  event: unknown;
  data: unknown;
  target?: unknown;
}

export interface EventManagerOptions {
  /** A ready `command` connection (fails fast when Redis is away). Not closed by the manager. */
  redis: RedisClient;
  keys: Keys;
  /** Opened by the composition root (src/app/), which closes them; the manager only adds to them. */
  queues: Pick<EventQueues, 'delivery' | 'throttle'>;
  config: Pick<
    Config,
    | 'ENQUEUE_TIMEOUT_MS'
    | 'JOB_ATTEMPTS'
    | 'IDEMPOTENCY_TTL_MS'
    | 'BATCH_LINGER_MS'
    | 'BATCH_MAX_EVENTS'
    | 'BATCH_MAX_BYTES'
  >;
  /**
   * Told each event once it is stored (in a delivery batch or a throttle window), with its catalog
   * name (metrics). Not for idempotent replays, which store nothing.
   */
  onAccepted?: (event: string) => void;
}

/** Options of every delivery and throttle job: retried with backoff, kept when they fail for good. */
export function deliveryJobOptions(attempts: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 100 },
    removeOnComplete: true,
    removeOnFail: { count: 10_000 },
  };
}

/** Adds one delivery batch (auto-increment job id: the queue's order is the order of adds). */
export function addDeliveryBatch(
  queue: Queue,
  events: Envelope[],
  options: JobsOptions,
): Promise<unknown> {
  const batch: DeliveryBatch = { catalog: CATALOG_VERSION, events };
  return queue.add(BATCH_JOB, batch, options);
}

/** `emitToPost(event, postId, payload, options?)`: an emit to the one room of a kind, by its id. */
type RoomHelper<K extends HelperKind> = <E extends EventsWithRoom<(typeof ROOMS)[K]>>(
  event: E,
  id: string,
  payload: PayloadOf<E>,
  options?: EmitOptions,
) => Promise<Accepted>;

/** One helper per kind of the room table with one param: emitToPost, emitToOrder, emitToUser, ... */
export type RoomHelpers = { [K in HelperKind as HelperName<K>]: RoomHelper<K> };

/**
 * The one way backend code publishes server-initiated events. It validates the payload against
 * the catalog, resolves namespace and room, and stores the event in a delivery batch (one BullMQ
 * job for many events); it never waits for delivery.
 *
 * @example
 *   const { id } = await events.emit('post_liked', { postId: '1', userId: '7', likeCount: 3 });
 *   await events.emitToUser('notification', '42', { title: 'Hi', body: 'Welcome' });
 */
// The helpers are derived from the room table at run time (below the class), so their types are
// declared by merging this interface into the class.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface EventManager extends RoomHelpers {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class EventManager {
  /** Delivery batches. */
  readonly queue: Queue;
  /** Flush jobs of throttled windows. */
  readonly throttleQueue: Queue;
  readonly throttle: ThrottleStore;
  private readonly batcher: DeliveryBatcher;
  private readonly flushJobOptions: JobsOptions;
  private readonly timeoutMs: number;
  private readonly idempotency: IdempotencyStore;
  private readonly onAccepted: (event: string) => void;

  constructor({ redis, keys, queues, config, onAccepted }: EventManagerOptions) {
    this.onAccepted = onAccepted ?? (() => undefined);
    this.queue = queues.delivery;
    this.throttleQueue = queues.throttle;
    const jobOptions = deliveryJobOptions(config.JOB_ATTEMPTS);
    this.batcher = new DeliveryBatcher(
      (events) => addDeliveryBatch(this.queue, events, jobOptions),
      {
        lingerMs: config.BATCH_LINGER_MS,
        maxEvents: config.BATCH_MAX_EVENTS,
        maxBytes: config.BATCH_MAX_BYTES,
        sendTimeoutMs: config.ENQUEUE_TIMEOUT_MS,
      },
    );
    this.flushJobOptions = jobOptions;
    this.throttle = new ThrottleStore(redis, keys);
    this.timeoutMs = config.ENQUEUE_TIMEOUT_MS;
    // A second request with a key in progress waits for most of the accept budget, then `conflict`.
    this.idempotency = new IdempotencyStore(redis, keys, {
      ttlMs: config.IDEMPOTENCY_TTL_MS,
      waitMs: Math.floor(this.timeoutMs * 0.75),
    });
  }

  /** Typed emit: the payload and target types come from the catalog entry of `event`. */
  emit<E extends EventName>(
    event: E,
    payload: PayloadOf<E>,
    target?: TargetOf<E>,
    options?: EmitOptions,
  ): Promise<Accepted> {
    return this.publish({ event, data: payload, target }, options);
  }

  /**
   * The core every transport calls. Throws GatewayError: `unknown_event`, `invalid_payload`,
   * `invalid_target` (nothing enqueued), `unavailable` when Redis does not take the job in time,
   * `invalid_argument` / `conflict` for a malformed or reused idempotency key.
   */
  async publish(input: PublishInput, options: EmitOptions = {}): Promise<Accepted> {
    const envelope = prepareEnvelope(input);
    const key = options.idempotencyKey;
    if (key === undefined) return this.withTimeout(this.accept(envelope));
    // The accept inside `once` is not cut short by the timeout: if it lands late it still records
    // its id under the key, so a retry after a 503 cannot publish the event a second time.
    return this.withTimeout(
      this.idempotency.once(key, fingerprintOf(envelope), envelope.id, () => this.accept(envelope)),
    );
  }

  /** Stores the event (queued job, or open window if throttled). Unbounded: callers add the timeout. */
  private async accept(envelope: Envelope): Promise<Accepted> {
    const { delivery } = lookupEvent(envelope.event);
    const accepted =
      delivery.kind === 'throttle'
        ? await this.addThrottled(envelope, delivery)
        : await this.addImmediate(envelope);
    this.onAccepted(envelope.event);
    return accepted;
  }

  private async addImmediate(envelope: Envelope): Promise<Accepted> {
    await this.batcher.add(envelope, sizeOf(envelope));
    return { id: envelope.id };
  }

  /**
   * A throttled event goes straight into the throttle store (one EVALSHA, no job of its own); only
   * the event that opens a window adds that window's delayed flush job. The event is in Redis
   * before the caller hears "accepted", so it is as durable as a queued job.
   */
  private async addThrottled(envelope: Envelope, delivery: ThrottleDelivery): Promise<Accepted> {
    const outcome = await this.throttle.add(envelope, delivery);
    switch (outcome.kind) {
      case 'added':
        return { id: outcome.windowId };
      case 'emit-now':
        await this.batcher.add({ ...envelope, coalesced: 1 }, sizeOf(envelope));
        return { id: envelope.id };
      case 'opened':
      case 'sealed': {
        const early = outcome.kind === 'sealed';
        // A sealed window is already claimed, under its own claim id: the job flushes that claim.
        const data = {
          throttleKey: this.throttle.throttleKeyOf(envelope),
          windowId: early ? outcome.claimId : outcome.windowId,
        };
        // Already stored: if the job cannot be added, the sweep flushes the window instead.
        await scheduleFlush(
          this.throttleQueue,
          data,
          early ? 0 : outcome.flushInMs,
          this.flushJobOptions,
          early,
        ).catch((err: unknown) =>
          log.warn(
            { ...data, err: (err as Error).message },
            'flush job not scheduled; the sweep will flush the window',
          ),
        );
        return { id: outcome.windowId };
      }
    }
  }

  private async withTimeout<T>(work: Promise<T>): Promise<T> {
    try {
      return await within(work, this.timeoutMs, (): never => {
        throw new GatewayError(
          'unavailable',
          `event store did not accept the event within ${this.timeoutMs} ms`,
        );
      });
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw new GatewayError('unavailable', `event store unavailable: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** Bytes an event adds to a batch: its payload's JSON, plus room for the envelope's other fields. */
function sizeOf(envelope: Envelope): number {
  return JSON.stringify(envelope.data).length + 160;
}

/** Validates an emit against the catalog and builds its envelope. Pure: no I/O. */

for (const [kind, entry] of Object.entries(ROOM_KINDS) as Array<[RoomKind, RoomKindEntry]>) {
  const params: string[] = roomParamNames(entry.template);
  if (params.length !== 1) continue;
  const param = params[0] as string;
  Object.defineProperty(EventManager.prototype, helperName(kind), {
    value(this: EventManager, event: unknown, id: string, payload: unknown, options?: EmitOptions) {
      return this.publish({ event, data: payload, target: { [param]: id } }, options);
    },
  });
}

export function prepareEnvelope({ event, data, target }: PublishInput, now = Date.now()): Envelope {
  const entry = lookupEvent(event);
  const parsed = entry.schema.safeParse(data);
  if (!parsed.success)
    throw GatewayError.fromZod(parsed.error, 'invalid_payload', `${entry.name} payload`);
  if (
    target !== undefined &&
    (target === null || typeof target !== 'object' || Array.isArray(target))
  ) {
    throw new GatewayError('invalid_target', 'target must be an object such as { "postId": "1" }', {
      issues: [{ path: ['target'], message: 'expected object' }],
    });
  }
  const room = resolveRoom(entry, target, parsed.data);
  return {
    v: 1,
    id: newEventId(now),
    event: entry.name,
    ns: entry.namespace,
    room,
    data: parsed.data,
    ts: now,
  };
}
