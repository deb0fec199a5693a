import { Queue } from 'bullmq';
import { logger } from '../logger';
import type { RedisClient } from './connections';
import type { Keys } from './keys';

const log = logger('queue');

/**
 * A BullMQ queue on an open connection of this process, with the one error policy every queue
 * has: a queue's 'error' is its connection's error passed on, which that connection's own listener
 * (watchErrors) has already logged and the call that failed already surfaces, so here it is only
 * kept from being an unhandled 'error' event (and logged at debug).
 */
export function openQueue(
  name: string,
  connection: RedisClient,
  keys: Pick<Keys, 'bullPrefix'>,
): Queue {
  const queue = new Queue(name, { connection, prefix: keys.bullPrefix, skipWaitingForReady: true });
  queue.on('error', (err) => log.debug({ queue: name, err: err.message }, 'queue error'));
  return queue;
}

/** The two queues every publisher and operator adds to: delivery batches and throttle jobs. */
export interface EventQueues {
  readonly delivery: Queue;
  readonly throttle: Queue;
  close(): Promise<void>;
}

/** Opens both on one connection (the composition root does it once per process). */
export function openEventQueues(
  names: { delivery: string; throttle: string },
  connection: RedisClient,
  keys: Pick<Keys, 'bullPrefix'>,
): EventQueues {
  const delivery = openQueue(names.delivery, connection, keys);
  const throttle = openQueue(names.throttle, connection, keys);
  return {
    delivery,
    throttle,
    close: async () => {
      await Promise.all([delivery.close(), throttle.close()]);
    },
  };
}
