import { Redis } from 'ioredis';
import type { EventMeta } from '../../src/catalog';
import { keySlot } from '../../src/redis/slot';
import { TEST_REDIS_URL } from '../helpers/redis';
import { GENEROUS_RATE_LIMITS } from '../helpers/redis-cluster';
import { Stack, testConfig } from '../helpers/stack';
import { call, record, until } from '../helpers/wait';

/** The cluster's masters as plain connections, to look at what each one holds. */
function masters(): Redis[] {
  return TEST_REDIS_URL.split(',').map((url) => new Redis(url, { lazyConnect: false }));
}

describe('on Redis Cluster, per-room data and channels spread over the masters', () => {
  // Rate limits above the test's 40 joins: it is about where data lives.
  const stack = new Stack(testConfig(GENEROUS_RATE_LIMITS));
  const nodes = masters();
  afterAll(async () => {
    await stack.close();
    for (const node of nodes) node.disconnect();
  });

  it('room histories, throttle windows, room presence and room channels of 40 rooms land on every master', async () => {
    expect(stack.config.REDIS_MODE).toBe('cluster');
    const gw = await stack.gatewayWithParkedFlushes();
    const admin = await stack.auth('ops', ['admin']);
    const client = await stack.client(gw, '/orders', admin);
    const orders = Array.from({ length: 40 }, (_, i) => `spread${i}`);
    for (const orderId of orders)
      expect(await call(client, 'join_order', { orderId })).toMatchObject({ ok: true });
    const got = record<unknown, EventMeta>(client, 'order_status_changed');
    for (const orderId of orders)
      await gw.runtime.events.emitToOrder('order_status_changed', orderId, {
        orderId,
        status: 'paid',
      });
    // Throttled: one like window per post, held (the throttle queue is parked).
    for (const orderId of orders)
      await gw.runtime.events.emit('post_liked', { postId: orderId, userId: 'u', likeCount: 1 });
    await until(() => got.length === orders.length);
    // Every event kept its offset: its room's stream was written in the same script as the publish.
    expect(got.every(([, meta]) => typeof meta.offset === 'string')).toBe(true);

    const prefix = stack.config.KEY_PREFIX;
    const perNode = await Promise.all(
      nodes.map(async (node) => {
        const [, keys] = await node.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 100_000);
        const shardChannels = (await node.call(
          'PUBSUB',
          'SHARDCHANNELS',
          `${prefix}:io#/orders#order:spread*`,
        )) as string[];
        const channels = (await node.call(
          'PUBSUB',
          'CHANNELS',
          `${prefix}:io#/orders#order:spread*`,
        )) as string[];
        return {
          histories: keys.filter((k) => k.startsWith(`${prefix}:history:`)).length,
          windows: keys.filter((k) => k.includes(':entry:')).length,
          // The room's presence hash (who is in it), not this gateway's share of it.
          presence: keys.filter(
            (k) => k.startsWith(`${prefix}:presence:room:`) && !k.includes('}:gw:'),
          ).length,
          shardChannels: shardChannels.length,
          channels: channels.length,
        };
      }),
    );
    // Each master holds some rooms' streams and windows and serves some rooms' shard channels.
    for (const node of perNode) {
      expect(node.histories).toBeGreaterThan(0);
      expect(node.windows).toBeGreaterThan(0);
      expect(node.presence).toBeGreaterThan(0);
      expect(node.shardChannels).toBeGreaterThan(0);
      expect(node.channels).toBe(0); // the sharded adapter: no classic PUBLISH/SUBSCRIBE for rooms
    }
    expect(perNode.reduce((n, node) => n + node.histories, 0)).toBe(orders.length);
    expect(perNode.reduce((n, node) => n + node.shardChannels, 0)).toBe(orders.length);
    expect(perNode.reduce((n, node) => n + node.presence, 0)).toBe(orders.length);
    // A room's stream and its channel share a slot (what lets one script append and SPUBLISH).
    const room = 'order:spread0';
    expect(keySlot(gw.runtime.keys.history('/orders', room))).toBe(
      keySlot(gw.runtime.keys.roomChannel('/orders', room)),
    );
    expect(keySlot(gw.runtime.keys.presenceRoom('orders', room))).toBe(
      keySlot(gw.runtime.keys.roomChannel('/orders', room)),
    );
    expect(await call(client, 'get_presence', { room })).toMatchObject({
      ok: true,
      data: { users: ['ops'] },
    });
  });
});
