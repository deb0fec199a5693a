import { TestRedisCluster } from './redis-cluster';

/**
 * globalSetup of jest.cluster.config.js: starts a 3-master Redis Cluster on loopback ports and
 * points every test (and every process a test spawns) at it through REDIS_URL and REDIS_MODE.
 */
export default async function setup(): Promise<void> {
  const cluster = await TestRedisCluster.start(3);
  (globalThis as { redisCluster?: TestRedisCluster }).redisCluster = cluster;
  process.env.REDIS_URL = cluster.url;
  process.env.REDIS_MODE = 'cluster';
}
