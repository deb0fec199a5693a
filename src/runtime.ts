import type { RedisClient } from './redis/connections';
import type { Config } from './config';
import { EventManager } from './events/event-manager';
import { managementOn, type Management } from './management/management';
import { closeRedis, connectRedis } from './redis/connections';
import { createKeys, type Keys } from './redis/keys';

/**
 * The shared core a gateway process hands to its transports (socket actions, HTTP routes):
 * config, key names, a fail-fast Redis connection, the EventManager and the management core.
 */
export interface Runtime {
  readonly config: Config;
  readonly keys: Keys;
  readonly redis: RedisClient;
  readonly events: EventManager;
  /** Pending-store operations for the admin API (same core as the CLI). */
  readonly management: Management;
  close(): Promise<void>;
}

/** Hooks a process wires into its runtime (the gateway's metrics). */
export interface RuntimeHooks {
  /** Each event the EventManager stored, by catalog name. */
  onAccepted?: (event: string) => void;
}

export async function openRuntime(config: Config, hooks: RuntimeHooks = {}): Promise<Runtime> {
  const redis = await connectRedis(
    config,
    'command',
    'sb-command',
    config.REDIS_CONNECT_TIMEOUT_MS,
  );
  const events = new EventManager({ redis, config, ...hooks });
  try {
    await events.pending.ready();
  } catch (err) {
    await events.close().catch(() => undefined);
    await closeRedis(redis);
    throw err;
  }
  return {
    config,
    keys: createKeys(config.KEY_PREFIX),
    redis,
    events,
    management: managementOn(redis, config, {
      delivery: events.queue,
      pending: events.pendingQueue,
    }),
    async close() {
      await events.close();
      await closeRedis(redis);
    },
  };
}
