import type { Gateway } from '../../src/gateway/server';
import { Stack } from '../helpers/stack';
import { call, nextEvent } from '../helpers/wait';

describe('two gateways, one worker', () => {
  const stack = new Stack();
  let gwA: Gateway;
  let gwB: Gateway;
  beforeAll(async () => {
    gwA = await stack.gateway();
    gwB = await stack.gateway();
    await stack.worker();
  });
  afterAll(() => stack.close());

  it('an event published through one gateway reaches clients on both', async () => {
    const admin = await stack.auth('ops', ['admin']);
    const onA = await stack.client(gwA, '/orders', admin);
    const onB = await stack.client(gwB, '/orders', admin);
    await call(onA, 'join_order', { orderId: 'o-7' });
    await call(onB, 'join_order', { orderId: 'o-7' });

    const gotA = nextEvent(onA, 'order_status_changed');
    const gotB = nextEvent(onB, 'order_status_changed');
    const res = await stack.post(gwB, '/api/orders/o-7/status', { status: 'shipped' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    for (const [data, meta] of [await gotA, await gotB]) {
      expect(data).toEqual({ orderId: 'o-7', status: 'shipped' });
      expect(meta).toMatchObject({ id, ns: '/orders', room: 'order:o-7' });
    }
  });

  it('typing relays cross gateways through the adapter', async () => {
    const a = await stack.client(gwA, '/social');
    const b = await stack.client(gwB, '/social');
    await call(a, 'join_post', { postId: 'p2' });
    await call(b, 'join_post', { postId: 'p2' });
    const got = nextEvent(b, 'typing');
    await call(a, 'typing_start', { postId: 'p2' });
    expect((await got)[0]).toEqual({ postId: 'p2', typing: true, userId: 'test-user' });
  });
});
