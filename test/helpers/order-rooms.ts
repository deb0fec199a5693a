import type { EventMeta } from '../../src/catalog';
import type { Gateway } from '../../src/gateway/server';
import type { Stack } from './stack';
import { call, record, until } from './wait';

/**
 * A gateway, a worker and one admin client joined to `count` order rooms (`<prefix>0`…), which
 * has already received a first round (`paid`) in every room: the setup of the cluster tests that
 * break a shard and check that delivery comes back to rooms on every shard.
 */
export async function orderRoomsDelivering(stack: Stack, prefix: string, count = 12) {
  const gw: Gateway = await stack.gateway();
  await stack.worker();
  const client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
  const orders = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  for (const orderId of orders)
    expect(await call(client, 'join_order', { orderId })).toMatchObject({ ok: true });
  const got = record<{ orderId: string; status: string }, EventMeta>(
    client,
    'order_status_changed',
  );
  /** One order_status_changed per room, all at once. */
  const publishAll = (status: 'paid' | 'shipped') =>
    Promise.all(
      orders.map((orderId) =>
        gw.runtime.events.emitToOrder('order_status_changed', orderId, { orderId, status }),
      ),
    );
  await publishAll('paid');
  await until(() => got.length === orders.length, 15_000, 'first round');
  return { gw, client, orders, got, publishAll };
}
