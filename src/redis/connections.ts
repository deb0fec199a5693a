import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { redactUrl, type Config } from '../config';
import { logger } from '../logger';
import { within } from '../timeout';

const log = logger('redis');

/**
 * The three kinds of connection a process opens. Each kind has the options its users need:
 * - `command`: request paths (HTTP accept, domain writes). Fails fast while Redis is away so a
 *   caller gets `unavailable` in bounded time instead of a hang.
 * - `subscriber`: pub/sub for the Socket.IO adapter; retries forever, resubscribes on reconnect.
 * - `worker`: BullMQ workers, which require `maxRetriesPerRequest: null`.
 */
export type ConnectionRole = 'command' | 'subscriber' | 'worker';

/**
 * A connection of either mode. ioredis's Cluster speaks the same commands and follows MOVED/ASK,
 * refreshes its slot map and reconnects by itself, so the code above this module does not know
 * which one it has.
 */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_URL and REDIS_MODE. */
export type RedisTarget = Pick<Config, 'REDIS_URL' | 'REDIS_MODE'>;

export function redisOptions(role: ConnectionRole): RedisOptions {
  const retryStrategy = (attempt: number) => Math.min(50 * attempt, 2000);
  switch (role) {
    case 'command':
      return {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy,
        lazyConnect: true,
      };
    case 'subscriber':
      return { maxRetriesPerRequest: null, retryStrategy, lazyConnect: true };
    case 'worker':
      return { maxRetriesPerRequest: null, retryStrategy, lazyConnect: true };
  }
}

/**
 * Cluster settings per role: the node connections get the role's options; MOVED/ASK redirects,
 * failover (a replica promoted) and a restarted shard are followed by the client itself: it
 * refreshes the slot map on MOVED and every 5 s, and reconnects to the seeds if every node is gone.
 */
function clusterOptions(role: ConnectionRole, url: URL, name: string): ClusterOptions {
  const { retryStrategy, enableOfflineQueue, ...node } = redisOptions(role);
  return {
    redisOptions: {
      ...node,
      connectionName: name,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    ...(enableOfflineQueue === false ? { enableOfflineQueue: false } : {}),
    clusterRetryStrategy: retryStrategy ?? null,
    // The gateways' adapter subscriber SSUBSCRIBEs: one subscriber connection per master.
    shardedSubscribers: role === 'subscriber',
    lazyConnect: true,
  };
}

/** A client for REDIS_URL in REDIS_MODE, not yet connected. */
function createClient(target: RedisTarget, role: ConnectionRole, name: string): RedisClient {
  if (target.REDIS_MODE === 'standalone')
    return new Redis(target.REDIS_URL, { ...redisOptions(role), connectionName: name });
  const seeds = target.REDIS_URL.split(',').map((u) => new URL(u.trim()));
  const first = seeds[0] as URL;
  return new Cluster(
    seeds.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    clusterOptions(role, first, name),
  );
}

/** Opens a connection and waits until it is ready (or throws after `timeoutMs`). */
export async function connectRedis(
  target: RedisTarget,
  role: ConnectionRole,
  name: string,
  timeoutMs = 5000,
): Promise<RedisClient> {
  const url = target.REDIS_URL;
  const redis = createClient(target, role, name);
  const errors = watchErrors(redis, name);
  // Wait for 'ready' while ioredis keeps retrying: Redis may still be starting (docker compose).
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      redis.once('ready', onReady);
      timer = setTimeout(() => {
        const why = errors.last() ? ` (last error: ${errors.last()})` : '';
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

/**
 * Logs a connection's errors, once per change of error, and its recovery. Every connection a
 * process opens gets this: an ioredis client without an 'error' listener prints "[ioredis]
 * Unhandled error event" with a stack for every failed reconnect attempt.
 */
export function watchErrors(redis: RedisClient, name: string): { last: () => string } {
  let lastError = '';
  redis.on('error', (err: Error) => {
    if (err.message !== lastError)
      log.warn({ conn: name, err: err.message }, 'redis connection error');
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) log.info({ conn: name }, 'redis connection restored');
    lastError = '';
  });
  return { last: () => lastError };
}

/**
 * Closes a connection politely, or drops it if Redis is not there to answer QUIT. QUIT is bounded:
 * a cluster client quits every node, and one node connection still coming back from a restart
 * would otherwise hold the close (and the process's shutdown) forever.
 */
export async function closeRedis(redis: RedisClient, quitTimeoutMs = 2000): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  await within(redis.quit(), quitTimeoutMs, () => undefined).catch(() => undefined); // dropped below either way
  // TypeScript narrowed status to 'ready' above; QUIT (or its timeout) has changed it since.
  if ((redis.status as string) !== 'end') redis.disconnect();
}

/** A second connection like `redis` (same mode, nodes and options), e.g. for a blocking read; its errors are logged as `name`. */
export function duplicateClient(redis: RedisClient, name: string): RedisClient {
  // One call per class: TypeScript cannot call the union of their two signatures.
  const copy = redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
  watchErrors(copy, name);
  return copy;
}
