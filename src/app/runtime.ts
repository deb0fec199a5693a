import type { Config } from '../config';
import { EventManager } from '../events/event-manager';
import { managementOn } from '../management/management';
import { closeRedis, connectRedis } from '../redis/connections';
import { createKeys } from '../redis/keys';
import type { Runtime } from '../runtime';

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
