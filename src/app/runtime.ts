import type { Config } from '../config';
import { deliveryJobOptions, EventManager } from '../events/event-manager';
import { JobControl } from '../management/jobs';
import { Management } from '../management/management';
import { closeRedis, connectRedis } from '../redis/connections';
import { createKeys } from '../redis/keys';
import { openEventQueues } from '../redis/queue';
import type { Runtime } from '../runtime';
import { queueNames } from '../wire/delivery-batch';

/** Hooks a process wires into its runtime (the gateway's metrics). */
export interface RuntimeHooks {
  /** Each event the EventManager stored, by catalog name. */
  onAccepted?: (event: string) => void;
}

/**
 * A publishing process's core (the gateway's): one command connection, the keys and both event
 * queues opened once, shared by the EventManager and the operator's Management.
 */
export async function openRuntime(config: Config, hooks: RuntimeHooks = {}): Promise<Runtime> {
  const redis = await connectRedis(
    config,
    'command',
    'sb-command',
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
  return {
    config,
    keys,
    redis,
    events,
    management: new Management(
      events.throttle,
      { ...queues, jobOptions: deliveryJobOptions(config.JOB_ATTEMPTS) },
      new JobControl(redis, keys, config.QUEUE_NAME),
    ),
    close,
  };
}
