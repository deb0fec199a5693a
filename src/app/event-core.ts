import type { Config } from '../config';
import { EventManager } from '../events/event-manager';
import { closeRedis, connectRedis, type RedisClient } from '../redis/connections';
import { createKeys, type Keys } from '../redis/keys';
import { openEventQueues, type EventQueues } from '../redis/queue';
import { queueNames } from '../wire/delivery-batch';

/** Hooks a process wires into its runtime (the gateway's metrics). */
export interface RuntimeHooks {
  /** Each event the EventManager stored, by catalog name. */
  onAccepted?: (event: string) => void;
}

/** What publishing needs, opened once: the command connection, keys, both queues, the manager. */
export interface EventCore {
  redis: RedisClient;
  keys: Keys;
  queues: EventQueues;
  events: EventManager;
  /** Closes the queues, then the connection. */
  close: () => Promise<void>;
}

/**
 * Opens an EventCore: the gateway's (inside its runtime) and the publisher package's. Rejects,
 * with everything it opened closed, when Redis does not answer within REDIS_CONNECT_TIMEOUT_MS.
 */
export async function openEventCore(
  config: Config,
  hooks: RuntimeHooks = {},
  connectionName = 'sb-command',
): Promise<EventCore> {
  const redis = await connectRedis(
    config,
    'command',
    connectionName,
    config.REDIS_CONNECT_TIMEOUT_MS,
  );
  const keys = createKeys(config.KEY_PREFIX);
  const queues = openEventQueues(queueNames(config.QUEUE_NAME), redis, keys);
  const events = new EventManager({ redis, keys, queues, config, ...hooks });
  const close = async () => {
    await queues.close();
    await closeRedis(redis);
  };
  try {
    await events.throttle.ready();
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { redis, keys, queues, events, close };
}
