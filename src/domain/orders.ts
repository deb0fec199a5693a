import type { PayloadOf } from '../catalog';
import { GatewayError } from '../errors';
import type { Runtime } from '../runtime';

type Status = PayloadOf<'order_status_changed'>['status'];
type Deps = Pick<Runtime, 'events' | 'redis' | 'keys'>;

/**
 * Records who owns an order (room authorization lets only the owner and admins into `order:{id}`).
 * The first owner sticks: claiming someone else's order is refused.
 */
export async function recordOrderOwner(
  rt: Pick<Runtime, 'redis' | 'keys'>,
  orderId: string,
  userId: string,
): Promise<void> {
  const key = rt.keys.orderOwner(orderId);
  const set = await rt.redis.set(key, userId, 'NX');
  if (set === 'OK') return;
  const owner = await rt.redis.get(key);
  if (owner !== userId)
    throw new GatewayError('conflict', `order ${orderId} belongs to another user`);
}

/** Creates an order for a user: records the owner and publishes `order_status_changed` `created`. */
export async function createOrder(
  rt: Deps,
  input: { orderId: string; userId: string },
): Promise<{ id: string; orderId: string }> {
  await recordOrderOwner(rt, input.orderId, input.userId);
  const { id } = await rt.events.emitToOrder('order_status_changed', input.orderId, {
    orderId: input.orderId,
    status: 'created',
  });
  return { id, orderId: input.orderId };
}

/** Publishes `order_status_changed` to the order's room; with `userId`, records the owner first. */
export async function setOrderStatus(
  rt: Deps,
  orderId: string,
  input: { status: Status; note?: string | undefined; userId?: string | undefined },
): Promise<{ id: string }> {
  if (input.userId !== undefined) await recordOrderOwner(rt, orderId, input.userId);
  return rt.events.emitToOrder('order_status_changed', orderId, {
    orderId,
    status: input.status,
    note: input.note,
  });
}
