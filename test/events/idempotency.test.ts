import type { EventMeta } from '../../src/catalog';
import { GatewayError } from '../../src/errors';
import { IdempotencyStore } from '../../src/events/idempotency';
import { Stack, testConfig } from '../helpers/stack';
import { call, record, recordUntil, sleep, until } from '../helpers/wait';

describe('idempotent publish', () => {
  // Anonymous sockets may join post rooms; order rooms need an admin token.
  const stack = new Stack(testConfig({ AUTH_MODE: 'anonymous' }));
  let gw: Awaited<ReturnType<Stack['gateway']>>;
  beforeAll(async () => {
    gw = await stack.gateway();
    await stack.worker();
  });
  afterAll(() => stack.close());

  const order = (orderId: string, note: string) => ({
    orderId,
    status: 'preparing' as const,
    note,
  });

  async function orderClient(orderId: string) {
    const s = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    await call(s, 'join_order', { orderId });
    return record<{ note?: string }, EventMeta>(s, 'order_status_changed');
  }

  it('the same key sent 10 times concurrently -> one event id, one delivery', async () => {
    const seen = await orderClient('i1');
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        gw.runtime.events.emit('order_status_changed', order('i1', 'once'), undefined, {
          idempotencyKey: 'order-i1-once',
        }),
      ),
    );
    const ids = new Set(results.map((r) => r.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    await until(() => seen.length >= 1, 5000, 'delivery');
    // A later, unkeyed event marks the end: anything duplicated would have arrived before it.
    await gw.runtime.events.emit('order_status_changed', order('i1', 'end'));
    await until(() => seen.some(([d]) => d.note === 'end'), 5000, 'end marker');
    expect(seen.filter(([d]) => d.note === 'once').map(([, m]) => m.id)).toEqual([...ids]);
  });

  it('over HTTP: the Idempotency-Key header (or body field) returns the first id with Idempotent-Replayed', async () => {
    const seen = await orderClient('i2');
    const body = { event: 'order_status_changed', data: order('i2', 'http') };
    const send = (headers: Record<string, string>, extra: object = {}) =>
      fetch(stack.url(gw, '/api/events'), {
        method: 'POST',
        headers: { ...stack.apiHeaders(), ...headers },
        body: JSON.stringify({ ...body, ...extra }),
      });

    const responses = await Promise.all(
      Array.from({ length: 10 }, () => send({ 'idempotency-key': 'http-i2' })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
    const payloads = (await Promise.all(responses.map((r) => r.json()))) as Array<{ id: string }>;
    expect(new Set(payloads.map((p) => p.id)).size).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(
      9,
    );

    const viaBody = await send({}, { idempotencyKey: 'http-i2' });
    expect(viaBody.status).toBe(202);
    expect(((await viaBody.json()) as { id: string }).id).toBe(payloads[0]?.id);

    await gw.runtime.events.emit('order_status_changed', order('i2', 'end'));
    await until(() => seen.some(([d]) => d.note === 'end'), 5000, 'end marker');
    expect(seen.filter(([d]) => d.note === 'http')).toHaveLength(1);
  });

  it('a key reused for another payload is a conflict (409); a malformed key is a 400', async () => {
    await gw.runtime.events.emit('order_status_changed', order('i3', 'a'), undefined, {
      idempotencyKey: 'reuse-i3',
    });
    const err = await gw.runtime.events
      .emit('order_status_changed', order('i3', 'b'), undefined, { idempotencyKey: 'reuse-i3' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('conflict');

    const res = await stack.post(gw, '/api/events', {
      event: 'order_status_changed',
      data: order('i3', 'b'),
      idempotencyKey: 'reuse-i3',
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('conflict');

    const bad = await fetch(stack.url(gw, '/api/events'), {
      method: 'POST',
      headers: { ...stack.apiHeaders(), 'idempotency-key': 'has space' },
      body: JSON.stringify({ event: 'order_status_changed', data: order('i3', 'c') }),
    });
    expect(bad.status).toBe(400);
  });

  it('invalid input never claims the key: after fixing the payload the same key publishes', async () => {
    const invalid = await gw.runtime.events
      .publish(
        { event: 'order_status_changed', data: { orderId: 'i4', status: 'teleported' } },
        { idempotencyKey: 'fix-i4' },
      )
      .catch((e: unknown) => e);
    expect((invalid as GatewayError).code).toBe('invalid_payload');
    const first = await gw.runtime.events.emit(
      'order_status_changed',
      order('i4', 'ok'),
      undefined,
      { idempotencyKey: 'fix-i4' },
    );
    expect(first.replayed).toBeUndefined();
  });

  it('a publish that fails releases its key: a retry with the same key publishes', async () => {
    const store = new IdempotencyStore(gw.runtime.redis, gw.runtime.keys, {
      ttlMs: 60_000,
      waitMs: 500,
    });
    const failing = store.once('retry-i6', 'fp', 't1', () =>
      Promise.reject(new GatewayError('unavailable', 'store down')),
    );
    await expect(failing).rejects.toMatchObject({ code: 'unavailable' });
    expect(await store.once('retry-i6', 'fp', 't2', () => Promise.resolve({ id: 'e2' }))).toEqual({
      id: 'e2',
    });
    expect(await store.once('retry-i6', 'fp', 't3', () => Promise.resolve({ id: 'e3' }))).toEqual({
      id: 'e2',
      replayed: true,
    });
  });

  it('a second request waits for the first one in progress, then returns its id', async () => {
    const store = new IdempotencyStore(gw.runtime.redis, gw.runtime.keys, {
      ttlMs: 60_000,
      waitMs: 1000,
    });
    let published = 0;
    const slow = async (id: string) => {
      published++;
      await sleep(150); // a slow publish: the second request must wait for it (what the test is about)
      return { id };
    };
    const [a, b] = await Promise.all([
      store.once('slow-i7', 'fp', 'a', () => slow('ea')),
      store.once('slow-i7', 'fp', 'b', () => slow('eb')),
    ]);
    expect(published).toBe(1);
    expect(a.id).toBe(b.id);
  });

  it('a throttled event with a key is counted once in its window', async () => {
    const s = await stack.client(gw, '/social', {});
    await call(s, 'join_post', { postId: 'i5' });
    const seen = recordUntil<{ userId: string; likeCount: number }, EventMeta>(
      s,
      'post_liked',
      (data) => data.userId === 'barrier',
    );
    const like = (n: number, key?: string) =>
      gw.runtime.events.emitToPost(
        'post_liked',
        'i5',
        { postId: 'i5', userId: `u${n}`, likeCount: n },
        key ? { idempotencyKey: key } : undefined,
      );
    const keyed = await Promise.all(Array.from({ length: 10 }, () => like(1, 'like-i5-u1')));
    await like(2);
    expect(new Set(keyed.map((r) => r.id)).size).toBe(1);
    await until(() => seen.length >= 1, 5000, 'coalesced emit');
    // A barrier: one more like, in a new window of the same room; a stray extra emit of the first
    // window (or a second window) would have arrived before it.
    const { id: barrierId } = await gw.runtime.events.emitToPost('post_liked', 'i5', {
      postId: 'i5',
      userId: 'barrier',
      likeCount: 3,
    });
    const [, barrierMeta] = await seen.barrier();
    expect(barrierMeta).toMatchObject({ id: barrierId, coalesced: 1 });
    // One keyed like sent 10 times + one plain like = 2 events merged, not 11.
    expect(seen.reduce((sum, [, m]) => sum + (m.coalesced ?? 1), 0)).toBe(2);
  });
});
