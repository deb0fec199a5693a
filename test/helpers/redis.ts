import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** `cluster` when the suite runs against the Redis Cluster that jest.cluster.config.js starts. */
export const TEST_REDIS_MODE: 'standalone' | 'cluster' =
  process.env.REDIS_MODE === 'cluster' ? 'cluster' : 'standalone';

/** A key prefix no other test run uses. */
export function uniquePrefix(label = 't'): string {
  return `sbtest-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under a prefix (SCAN, not KEYS, so a busy Redis is not blocked), on every master of a cluster. */
export async function deleteKeys(
  prefix: string,
  url = TEST_REDIS_URL,
  mode = TEST_REDIS_MODE,
): Promise<number> {
  if (mode === 'standalone') return deleteOn(new Redis(url, { lazyConnect: true }), prefix);
  const seeds = url.split(',').map((u) => new URL(u));
  const cluster = new Cluster(
    seeds.map((u) => ({ host: u.hostname, port: Number(u.port) })),
    { lazyConnect: true },
  );
  await cluster.connect();
  try {
    let deleted = 0;
    for (const node of cluster.nodes('master'))
      deleted += await deleteOn(
        new Redis({ host: node.options.host, port: node.options.port, lazyConnect: true }),
        prefix,
      );
    return deleted;
  } finally {
    cluster.disconnect();
  }
}

async function deleteOn(redis: Redis, prefix: string): Promise<number> {
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // One DEL per key: on a cluster node the keys of one SCAN page are in many slots.
      for (const key of keys) deleted += await redis.del(key);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
