import type { Config } from '../config';
import { redactUrl } from '../config';
import { GatewayError } from '../errors';
import { deliveryJobOptions } from '../events/event-manager';
import { JobControl } from '../management/jobs';
import { Management } from '../management/management';
import { ThrottleStore } from '../throttle/store';
import { closeRedis, connectRedis, type RedisClient } from '../redis/connections';
import { createKeys } from '../redis/keys';
import { openEventQueues } from '../redis/queue';
import { queueNames } from '../wire/delivery-batch';

export type ManagementConfig = Pick<
  Config,
  'KEY_PREFIX' | 'QUEUE_NAME' | 'JOB_ATTEMPTS' | 'REDIS_URL' | 'REDIS_MODE'
>;

/**
 * The CLI's process: Management on its own fail-fast connection; `unavailable` (one line, no
 * password) if Redis does not answer in time. Closing it closes what it opened.
 *
 * @example
 *   const m = await openManagement(loadConfig());
 *   console.log(await m.countWindows({ event: 'post_liked' }));
 *   await m.flushWindows({ all: true });
 *   await m.close();
 */
export async function openManagement(
  config: ManagementConfig,
  timeoutMs = 3000,
): Promise<Management> {
  let redis: RedisClient;
  try {
    redis = await connectRedis(config, 'command', 'sb-cli', timeoutMs);
  } catch (err) {
    throw new GatewayError(
      'unavailable',
      `cannot reach Redis at ${redactUrl(config.REDIS_URL)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const keys = createKeys(config.KEY_PREFIX);
  const queues = openEventQueues(queueNames(config.QUEUE_NAME), redis, keys);
  return new Management(
    new ThrottleStore(redis, keys),
    { ...queues, jobOptions: deliveryJobOptions(config.JOB_ATTEMPTS) },
    new JobControl(redis, keys, config.QUEUE_NAME),
    async () => {
      await queues.close();
      await closeRedis(redis);
    },
  );
}
