import { Redis, type RedisOptions } from 'ioredis';
import { logger } from '../logger';

const log = logger('redis');

/**
 * The three kinds of connection a process opens. Each kind has the options its users need:
 * - `command`: request paths (HTTP accept, domain writes). Fails fast while Redis is away so a
 *   caller gets `unavailable` in bounded time instead of a hang.
 * - `subscriber`: pub/sub for the Socket.IO adapter; retries forever, resubscribes on reconnect.
 * - `worker`: BullMQ workers, which require `maxRetriesPerRequest: null`.
 */
export type ConnectionRole = 'command' | 'subscriber' | 'worker';

export function redisOptions(role: ConnectionRole): RedisOptions {
  const retryStrategy = (attempt: number) => Math.min(50 * attempt, 2000);
  switch (role) {
    case 'command':
      return { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy, lazyConnect: true };
    case 'subscriber':
      return { maxRetriesPerRequest: null, retryStrategy, lazyConnect: true };
    case 'worker':
      return { maxRetriesPerRequest: null, retryStrategy, lazyConnect: true };
  }
}

/** Opens a connection and waits until it is ready (or throws after `timeoutMs`). */
export async function connectRedis(url: string, role: ConnectionRole, name: string, timeoutMs = 5000): Promise<Redis> {
  const redis = new Redis(url, { ...redisOptions(role), connectionName: name });
  // Without a listener ioredis prints every reconnect error; log them once per state change instead.
  let lastError = '';
  redis.on('error', (err: Error) => {
    if (err.message !== lastError) log.warn({ conn: name, err: err.message }, 'redis connection error');
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) log.info({ conn: name }, 'redis connection restored');
    lastError = '';
  });
  // Wait for 'ready' while ioredis keeps retrying: Redis may still be starting (docker compose).
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      redis.once('ready', onReady);
      timer = setTimeout(() => {
        const why = lastError ? ` (last error: ${lastError})` : '';
        reject(new Error(`redis at ${redactUrl(url)} not ready within ${timeoutMs} ms${why}`));
      }, timeoutMs);
      redis.connect().catch(() => undefined); // failures are retried; the timeout decides
    });
  } catch (err) {
    redis.disconnect();
    throw err;
  } finally {
    clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
  }
  return redis;
}

/** Closes a connection politely, or drops it if Redis is not there to answer QUIT. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
