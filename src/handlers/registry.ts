import type { RedisClient } from '../redis/connections';
import type { Keys } from '../redis/keys';
import type { EventHandler } from './define';

export interface RegisteredHandler {
  name: string;
  events: string[];
}

/**
 * What the workers run, for operators (`sb handlers`, GET /admin/handlers): a worker records the
 * handlers it discovered when it starts, replacing the previous record, so the list is the one the
 * most recently started worker loaded. The gateway never loads handler code to answer.
 */
export async function recordHandlers(
  redis: RedisClient,
  keys: Pick<Keys, 'handlerRegistry'>,
  handlers: readonly EventHandler[],
): Promise<void> {
  const tx = redis.multi().del(keys.handlerRegistry);
  for (const h of handlers)
    tx.hset(keys.handlerRegistry, h.name, JSON.stringify({ events: h.events }));
  await tx.exec();
}

export async function readHandlers(
  redis: RedisClient,
  keys: Pick<Keys, 'handlerRegistry'>,
): Promise<RegisteredHandler[]> {
  const raw = await redis.hgetall(keys.handlerRegistry);
  return Object.entries(raw)
    .map(([name, json]) => ({ name, events: (JSON.parse(json) as { events: string[] }).events }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
