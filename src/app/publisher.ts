import { loadConfig } from '../config';
import type { EventManager, RoomHelpers } from '../events/event-manager';
import { openEventCore } from './event-core';

/**
 * The composition root of `@switchboard/publisher`: backend code publishing straight into Redis and
 * BullMQ, with the gateway's own EventManager (the same catalog, validation, delivery batches,
 * idempotency and typed errors), no HTTP hop. The gateway's workers deliver what it enqueues.
 */
export interface PublisherOptions {
  /** Default redis://127.0.0.1:6379; with `redisMode: 'cluster'`, comma-separated seed nodes. */
  redisUrl?: string;
  redisMode?: 'standalone' | 'cluster';
  /** The gateway's KEY_PREFIX and QUEUE_NAME (defaults `sb` and `events`): they must match. */
  keyPrefix?: string;
  queueName?: string;
  /** How long a publish waits for Redis before it fails with `unavailable` (default 2 s). */
  enqueueTimeoutMs?: number;
  /** How long the first connect may take before createPublisher rejects (default 5 s). */
  connectTimeoutMs?: number;
}

/** `emit`, `publish`, the `emitTo<Kind>` helpers of the room table, and `close`. */
export type Publisher = Pick<EventManager, 'emit' | 'publish'> &
  RoomHelpers & {
    /** Waits for the adds in flight, then closes the queues and the connection. */
    close(): Promise<void>;
  };

export async function createPublisher(options: PublisherOptions = {}): Promise<Publisher> {
  // Only what the caller passed: a publisher inside someone else's service reads no env of ours.
  const config = loadConfig({
    REDIS_URL: options.redisUrl,
    REDIS_MODE: options.redisMode,
    KEY_PREFIX: options.keyPrefix,
    QUEUE_NAME: options.queueName,
    ENQUEUE_TIMEOUT_MS: options.enqueueTimeoutMs?.toString(),
    REDIS_CONNECT_TIMEOUT_MS: options.connectTimeoutMs?.toString(),
  });
  const { events, close: closeCore } = await openEventCore(config, {}, 'sb-publisher');
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= closeCore());
  // The manager itself, with close: its helpers live on its prototype (derived from the room table).
  return Object.assign(events, { close });
}

export { ERROR_CODES, GatewayError, type ErrorBody, type ErrorCode } from '../errors';
export type { Accepted, EmitOptions, PublishInput } from '../events/event-manager';
export type { EventName, PayloadOf, TargetOf } from '../catalog';
