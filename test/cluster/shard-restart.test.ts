import { keySlot } from '../../src/redis/slot';
import { TestRedisCluster } from '../helpers/redis-cluster';
import { orderRoomsDelivering } from '../helpers/order-rooms';
import { Stack, testConfig } from '../helpers/stack';
import { until } from '../helpers/wait';

/**
 * A master of the cluster restarts (SIGTERM, then the same port and data): the gateway, the worker
 * and the publisher are not restarted; ioredis's cluster client reconnects to the node and
 * SSUBSCRIBEs its channels again, and delivery resumes to rooms on every shard.
 */
describe('a Redis Cluster master restarting under a running deployment', () => {
  let cluster: TestRedisCluster;
  let stack: Stack;
  beforeAll(async () => {
    cluster = await TestRedisCluster.start(3);
    stack = new Stack(testConfig(cluster.stackEnv()));
  }, 30_000);
  afterAll(async () => {
    // Either is still unset when beforeAll failed before creating it.
    await (stack as Stack | undefined)?.close();
    await (cluster as TestRedisCluster | undefined)?.close();
  });

  it('delivers to rooms on every shard again once the master is back', async () => {
    const { gw, orders, got, publishAll } = await orderRoomsDelivering(stack, 'restart');

    // The master serving the most of these rooms' channels.
    const owners = await Promise.all(cluster.nodes.map((node) => node.slots()));
    const servedBy = (orderId: string) =>
      owners.findIndex((ranges) =>
        ranges.some(([from, to]) => {
          const slot = keySlot(gw.runtime.keys.roomChannel('/orders', `order:${orderId}`));
          return slot >= from && slot <= to;
        }),
      );
    const counts = cluster.nodes.map((_, i) => orders.filter((o) => servedBy(o) === i).length);
    const victim = counts.indexOf(Math.max(...counts));
    expect(counts[victim]).toBeGreaterThan(0);

    await cluster.nodes[victim]!.stopProcess(true);
    await cluster.nodes[victim]!.startProcess();
    await cluster.waitUntilServing();

    // Accepts may fail while the node's connections come back: the publisher retries, as a caller would.
    await until(
      async () =>
        publishAll('shipped').then(
          () => true,
          () => false,
        ),
      15_000,
      'accepts after the restart',
    );
    await until(
      () =>
        orders.every((orderId) =>
          got.some(([data]) => data.orderId === orderId && data.status === 'shipped'),
        ),
      20_000,
      'second round',
    );
    const shipped = new Set(
      got.filter(([data]) => data.status === 'shipped').map(([data]) => data.orderId),
    );
    expect(shipped.size).toBe(orders.length);
  }, 60_000);
});
