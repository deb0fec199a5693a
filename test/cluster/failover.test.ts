import { keySlot } from '../../src/redis/slot';
import { TestRedisCluster } from '../helpers/redis-cluster';
import { orderRoomsDelivering } from '../helpers/order-rooms';
import { Stack, testConfig } from '../helpers/stack';
import { until } from '../helpers/wait';

/**
 * A master dies for good (SIGKILL) and its replica takes over (cluster-node-timeout 2 s). Nothing
 * of the deployment is restarted: ioredis follows the new slot map (MOVED, refresh), the sharded
 * subscriber moves to the new master, and delivery resumes to rooms on every shard, the dead
 * master's included.
 */
describe('a Redis Cluster master failing over to its replica under a running deployment', () => {
  let cluster: TestRedisCluster;
  let stack: Stack;
  beforeAll(async () => {
    cluster = await TestRedisCluster.start(3, 1);
    stack = new Stack(testConfig(cluster.stackEnv()));
  }, 60_000);
  afterAll(async () => {
    // Either is still unset when beforeAll failed before creating it.
    await (stack as Stack | undefined)?.close();
    await (cluster as TestRedisCluster | undefined)?.close();
  }, 60_000);

  it('delivers to rooms on every shard again once the replica is master', async () => {
    const { gw, orders, got, publishAll } = await orderRoomsDelivering(stack, 'failover');

    // The master serving slot 0 dies; some of these rooms live there.
    const owners = await Promise.all(
      cluster.nodes.map(async (node) => ({ node, slots: await node.slots() })),
    );
    const { node: victim, slots: victimSlots } = owners.find(({ slots }) =>
      slots.some(([from]) => from === 0),
    )!;
    const onVictim = orders.filter((orderId) => {
      const slot = keySlot(gw.runtime.keys.roomChannel('/orders', `order:${orderId}`));
      return victimSlots.some(([from, to]) => slot >= from && slot <= to);
    });
    expect(onVictim.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    await victim.stopProcess();
    const heir = await cluster.waitUntilFailedOver(victim, victimSlots);
    expect(heir).not.toBe(victim);

    // Accepts may fail until the clients have the new slot map: the publisher retries, as a caller would.
    const promotedAt = Date.now();
    await until(
      async () =>
        publishAll('shipped').then(
          () => true,
          () => false,
        ),
      20_000,
      'accepts after the failover',
    );
    const acceptedAt = Date.now();
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
    console.log(
      `failover: replica promoted ${promotedAt - killedAt} ms after the SIGKILL; accepts back ${acceptedAt - promotedAt} ms later; ` +
        `all ${orders.length} rooms (${onVictim.length} on the dead master's slots) delivered ${Date.now() - acceptedAt} ms after that`,
    );
  }, 120_000);
});
