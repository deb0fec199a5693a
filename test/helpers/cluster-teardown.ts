import type { TestRedisCluster } from './redis-cluster';

/** globalTeardown of jest.cluster.config.js: stops the cluster's redis-server processes by pid. */
export default async function teardown(): Promise<void> {
  await (globalThis as { redisCluster?: TestRedisCluster }).redisCluster?.close();
}
