import type { Config } from '../config';
import { deliveryJobOptions } from '../events/event-manager';
import { JobControl } from '../management/jobs';
import { Management } from '../management/management';
import type { Runtime } from '../runtime';
import { openEventCore, type RuntimeHooks } from './event-core';

export type { RuntimeHooks } from './event-core';

/**
 * A gateway's core: its EventCore (one command connection, the keys and both event queues opened
 * once), shared by the EventManager and the operator's Management.
 */
export async function openRuntime(config: Config, hooks: RuntimeHooks = {}): Promise<Runtime> {
  const { redis, keys, queues, events, close } = await openEventCore(config, hooks);
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
