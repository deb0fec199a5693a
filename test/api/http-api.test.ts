import { queuedEvents } from '../helpers/queue';
import { Stack } from '../helpers/stack';
import { call, nextEvent } from '../helpers/wait';

/** What the tests read from a response body: `id` when accepted, `error` when refused. */
interface ApiBody {
  id: string;
  error: { code: string; message: string; issues: unknown };
}

describe('HTTP API', () => {
  const stack = new Stack();
  let gw: Awaited<ReturnType<Stack['gateway']>>;
  const post = async (path: string, body: unknown, raw = false) => {
    const res = await fetch(stack.url(gw, path), {
      method: 'POST',
      headers: stack.apiHeaders(),
      body: raw ? (body as string) : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as ApiBody };
  };
  const counts = () =>
    gw.runtime.events.queue.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed');

  beforeAll(async () => {
    gw = await stack.gateway(); // no worker: accepted jobs stay in the queue where the test can count them
  });
  afterAll(() => stack.close());

  it('GET /healthz reports Redis ok', async () => {
    const res = await fetch(stack.url(gw, '/healthz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, redis: 'ok' });
  });

  it.each([
    ['/api/posts/1/comments', { userId: 'u1', text: 'nice' }, 'post_commented'],
    ['/api/orders/9/status', { status: 'paid' }, 'order_status_changed'],
    ['/api/chats/c9/messages', { userId: 'u1', content: 'hi' }, 'new_message'],
    [
      '/api/events',
      {
        event: 'payment_confirmed',
        target: { orderId: '9' },
        data: { orderId: '9', paymentId: 'p1', amount: 12.5, currency: 'EUR' },
      },
      'payment_confirmed',
    ],
  ])(
    'POST %s (immediate) -> 202 and one %s event with that id in a delivery batch',
    async (path, body, event) => {
      const before = await counts();
      const res = await post(path, body);
      expect(res.status).toBe(202);
      expect(typeof res.body.id).toBe('string');
      const queued = (await queuedEvents(gw.runtime.events.queue)).filter(
        (e) => e.id === res.body.id,
      );
      expect(queued).toEqual([expect.objectContaining({ id: res.body.id, event })]);
      expect((await counts()).wait).toBe((before.wait ?? 0) + 1);
    },
  );

  it.each([
    ['/api/posts/1/like', { userId: 'u1' }, 'post_liked', 'social:post_liked:post:1'],
    [
      '/api/users/42/notifications',
      { title: 'Hello', body: 'World' },
      'notification',
      'notification:notification:user:42',
    ],
  ])(
    'POST %s (throttled) -> 202 and the event is throttle under its key',
    async (path, body, event, key) => {
      const res = await post(path, body);
      expect(res.status).toBe(202);
      const { items } = await gw.runtime.management.listWindows({ event, limit: 10 });
      expect(items).toEqual([expect.objectContaining({ key, event, count: 1, id: res.body.id })]);
    },
  );

  it('notifications default kind and route to user:{id}', async () => {
    const res = await post('/api/users/43/notifications', { title: 'T', body: 'B' });
    const { dropped } = await gw.runtime.management.dropWindow({
      key: 'notification:notification:user:43',
    });
    expect(dropped).toMatchObject({
      id: res.body.id,
      room: 'user:43',
      items: [{ title: 'T', body: 'B', kind: 'info' }],
    });
  });

  it.each([
    ['/api/posts/1/like', {}, 'invalid_payload'],
    ['/api/posts/1/like', { userId: 'bad id' }, 'invalid_payload'],
    ['/api/posts/has%20space/like', { userId: 'u1' }, 'invalid_payload'],
    ['/api/posts/1/comments', { userId: 'u1', text: '' }, 'invalid_payload'],
    ['/api/orders/9/status', { status: 'teleported' }, 'invalid_payload'],
    ['/api/chats/c9/messages', { content: 'x'.repeat(5000) }, 'invalid_payload'],
    ['/api/users/42/notifications', { title: 'no body' }, 'invalid_payload'],
    [
      '/api/events',
      { event: 'post_liked', data: { postId: '1', userId: 'u', likeCount: -1 } },
      'invalid_payload',
    ],
    ['/api/events', { event: 'notification', data: { title: 'a', body: 'b' } }, 'invalid_target'],
    [
      '/api/events',
      { event: 'notification', target: { userId: 'a b' }, data: { title: 'a', body: 'b' } },
      'invalid_target',
    ],
    ['/api/events', { data: {} }, 'invalid_payload'],
    ['/api/events', [1, 2, 3], 'invalid_payload'],
  ])('POST %s with %j -> 400 %s and nothing enqueued', async (path, body, code) => {
    const before = await counts();
    const likesBefore = await gw.runtime.redis.get(gw.runtime.keys.postLikes('1'));
    const res = await post(path, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe('string');
    expect(await counts()).toEqual(before);
    expect(await gw.runtime.redis.get(gw.runtime.keys.postLikes('1'))).toBe(likesBefore);
  });

  it('invalid JSON -> 400 invalid_json; unknown event -> 404; unknown route -> 404; huge body -> 413', async () => {
    const before = await counts();
    expect(await post('/api/events', '{"event":', true)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_json' } },
    });
    expect(await post('/api/events', { event: 'nope', data: {} })).toMatchObject({
      status: 404,
      body: { error: { code: 'unknown_event' } },
    });
    expect(await post('/api/nowhere', {})).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });
    const huge = await post('/api/events', {
      event: 'post_liked',
      data: { pad: 'x'.repeat(gw.runtime.config.MAX_PAYLOAD_BYTES) },
    });
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(await counts()).toEqual(before);
  });

  it('issues are listed with their paths', async () => {
    const res = await post('/api/events', {
      event: 'payment_confirmed',
      target: { orderId: '1' },
      data: { orderId: '1', paymentId: 'p', amount: 1, currency: 'euro' },
    });
    expect(res.body.error.issues).toEqual([
      { path: ['currency'], message: expect.any(String) as unknown },
    ]);
  });

  it('a worker started later delivers what was accepted', async () => {
    const client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    await call(client, 'join_order', { orderId: 'late' });
    const res = await post('/api/orders/late/status', { status: 'delivered' });
    const got = nextEvent<{ status: string }, { id: string }>(client, 'order_status_changed');
    await stack.worker();
    const [data, meta] = await got;
    expect(data.status).toBe('delivered');
    expect(meta.id).toBe(res.body.id);
  });
});
