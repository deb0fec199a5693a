import { Stack } from '../helpers/stack';
import { call, nextEvent, record } from '../helpers/wait';

describe('HTTP like -> queue -> worker -> room', () => {
  const stack = new Stack();
  afterAll(() => stack.close());

  it('delivers post_liked to the post room only, with likeCount and meta', async () => {
    const gw = await stack.gateway();
    await stack.worker();
    const inRoom = await stack.client(gw, '/social');
    const otherPost = await stack.client(gw, '/social');
    // An admin may join any order room, so this socket really is in order:123.
    const orders = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    expect(await call(inRoom, 'join_post', { postId: '123' })).toEqual({
      ok: true,
      data: { room: 'post:123', offset: '0-0' },
    });
    await call(otherPost, 'join_post', { postId: '999' });
    await call(orders, 'join_order', { orderId: '123' });
    const strayOther = record(otherPost, 'post_liked');
    const strayOrders = record(orders, 'post_liked');

    const received = nextEvent<
      { likeCount: number },
      { id: string; ns: string; room: string; ts: number }
    >(inRoom, 'post_liked');
    const res = await fetch(stack.url(gw, '/api/posts/123/like'), {
      method: 'POST',
      headers: stack.apiHeaders(),
      body: JSON.stringify({ userId: 'u1' }),
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string; likeCount: number };
    expect(body.likeCount).toBe(1);

    const [data, meta] = await received;
    expect(data).toEqual({ postId: '123', userId: 'u1', likeCount: 1 });
    expect(meta).toMatchObject({ id: body.id, ns: '/social', room: 'post:123' });
    expect(typeof meta.ts).toBe('number');

    // A second like proves the counter and gives strays time to (not) arrive.
    const second = nextEvent<{ likeCount: number }>(inRoom, 'post_liked');
    await fetch(stack.url(gw, '/api/posts/123/like'), {
      method: 'POST',
      headers: stack.apiHeaders(),
      body: JSON.stringify({ userId: 'u2' }),
    });
    expect((await second)[0].likeCount).toBe(2);
    // Barriers on the other two sockets: an event to each one's own room, through the same queue,
    // worker and adapter, sent after both likes went out; a stray like would have arrived first.
    const barrierOther = nextEvent<{ postId: string }>(otherPost, 'post_commented');
    const barrierOrders = nextEvent<{ orderId: string }>(orders, 'order_status_changed');
    expect(
      (await stack.post(gw, '/api/posts/999/comments', { userId: 'u3', text: 'barrier' })).status,
    ).toBe(202);
    expect((await stack.post(gw, '/api/orders/123/status', { status: 'paid' })).status).toBe(202);
    expect((await barrierOther)[0].postId).toBe('999');
    expect((await barrierOrders)[0].orderId).toBe('123');
    expect(strayOther).toHaveLength(0);
    expect(strayOrders).toHaveLength(0);
  });
});
