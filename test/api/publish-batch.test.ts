import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Request } from 'express';
import { httpSubjectOf } from '../../src/api/rate-limit';
import type { Gateway } from '../../src/gateway/server';
import { queuedEvents } from '../helpers/queue';
import { TestRedisServer } from '../helpers/redis-server';
import { Stack, testConfig } from '../helpers/stack';

/** A batch item's outcome: its id (`replayed` for a known idempotency key), or why it was refused. */
interface ItemResult {
  id: string;
  replayed?: boolean;
  error: { code: string; message: string; issues?: unknown };
}

/** What the tests read from a response body: the batch's counts and results, or the request's error. */
interface ApiBody {
  accepted: number;
  rejected: number;
  results: ItemResult[];
  error: { code: string; message: string };
}

/** POSTs to a gateway with the publish token (or the given headers); `raw` sends the body as is. */
async function post(
  stack: Stack,
  gw: Gateway,
  path: string,
  body: unknown,
  opts: { raw?: boolean; headers?: Record<string, string> } = {},
) {
  const res = await fetch(stack.url(gw, path), {
    method: 'POST',
    headers: opts.headers ?? stack.apiHeaders(),
    body: opts.raw ? (body as string) : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as ApiBody };
}

/** A unique id-safe suffix, so a test finds its own events among the shared gateway's. */
const unique = () => randomUUID().slice(0, 8);

/** An immediate event (queued at once) for order `orderId`. */
const orderStatus = (orderId: string, status = 'paid') => ({
  event: 'order_status_changed',
  target: { orderId },
  data: { orderId, status },
});

describe('POST /api/events/batch', () => {
  const stack = new Stack();
  let gw: Gateway;
  const batch = (body: unknown, raw = false) => post(stack, gw, '/api/events/batch', body, { raw });
  const queued = () => queuedEvents(gw.runtime.events.queue);

  beforeAll(async () => {
    gw = await stack.gateway(); // no worker: accepted events stay in the queue where the test can see them
  });
  afterAll(() => stack.close());

  it('a valid batch: every item gets an id, each queued exactly once, in item order', async () => {
    const run = unique();
    const items = [
      orderStatus(`${run}-1`),
      {
        event: 'payment_confirmed',
        target: { orderId: `${run}-2` },
        data: { orderId: `${run}-2`, paymentId: 'p1', amount: 12.5, currency: 'EUR' },
      },
      orderStatus(`${run}-3`, 'shipped'),
      {
        event: 'post_commented',
        data: { postId: `${run}-4`, commentId: 'c1', userId: 'u1', text: 'nice' },
      },
      orderStatus(`${run}-5`, 'delivered'),
    ];
    const res = await batch({ events: items });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accepted: 5,
      rejected: 0,
      results: items.map(() => ({ id: expect.any(String) as unknown })),
    });
    const ids = res.body.results.map((r) => r.id);
    expect(new Set(ids).size).toBe(5);

    const all = await queued();
    const mine = all.filter((e) => ids.includes(e.id));
    // Exactly once each, and in item order (the queue's order is the order of accepts).
    expect(mine.map((e) => e.id)).toEqual(ids);
    expect(mine.map((e) => [e.event, e.room])).toEqual([
      ['order_status_changed', `order:${run}-1`],
      ['payment_confirmed', `order:${run}-2`],
      ['order_status_changed', `order:${run}-3`],
      ['post_commented', `post:${run}-4`],
      ['order_status_changed', `order:${run}-5`],
    ]);
    expect(mine[2]?.data).toEqual({ orderId: `${run}-3`, status: 'shipped' });
  });

  it('a batch larger than MAX_PAYLOAD_BYTES (but within PUBLISH_BATCH_MAX_BYTES) is accepted', async () => {
    const run = unique();
    const note = 'n'.repeat(400);
    const items = Array.from({ length: 300 }, (_, i) => ({
      ...orderStatus(`${run}-${i}`),
      data: { orderId: `${run}-${i}`, status: 'paid', note },
    }));
    expect(JSON.stringify({ events: items }).length).toBeGreaterThan(
      gw.runtime.config.MAX_PAYLOAD_BYTES,
    );
    const res = await batch({ events: items });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(300);
    const ids = new Set(res.body.results.map((r) => r.id));
    expect((await queued()).filter((e) => ids.has(e.id))).toHaveLength(300);
  });

  it('a mixed batch: valid items are accepted and queued; each bad item rejects only itself', async () => {
    const run = unique();
    const before = (await queued()).length;
    const bad = `${run}-bad`;
    const items = [
      orderStatus(`${run}-ok1`),
      {
        event: 'payment_confirmed',
        target: { orderId: bad },
        data: { orderId: bad, paymentId: 'p', amount: 1, currency: 'euro' },
      },
      { event: 'no_such_event', target: { orderId: bad }, data: { orderId: bad } },
      { target: { orderId: bad }, data: { orderId: bad } },
      42,
      { event: 'notification', data: { title: 'no', body: 'target' } },
      {
        event: 'order_status_changed',
        target: { orderId: bad },
        data: {
          orderId: bad,
          status: 'paid',
          pad: 'x'.repeat(gw.runtime.config.MAX_PAYLOAD_BYTES),
        },
      },
      orderStatus(`${run}-ok2`, 'shipped'),
    ];
    const res = await batch({ events: items });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, rejected: 6 });
    const [ok1, badPayload, unknown, noEvent, notObject, noTarget, tooBig, ok2] = res.body.results;
    expect(ok1).toEqual({ id: expect.any(String) as unknown });
    expect(ok2).toEqual({ id: expect.any(String) as unknown });
    expect(badPayload).toEqual({
      error: {
        code: 'invalid_payload',
        message: expect.any(String) as unknown,
        issues: [{ path: ['currency'], message: expect.any(String) as unknown }],
      },
    });
    expect(unknown).toEqual({
      error: { code: 'unknown_event', message: expect.any(String) as unknown },
    });
    expect(noEvent).toMatchObject({
      error: { code: 'invalid_payload', issues: [expect.objectContaining({ path: ['event'] })] },
    });
    expect(notObject).toMatchObject({ error: { code: 'invalid_payload' } });
    expect(noTarget).toMatchObject({ error: { code: 'invalid_target' } });
    expect(tooBig).toMatchObject({ error: { code: 'payload_too_large' } });

    const after = await queued();
    expect(after.length - before).toBe(2); // nothing from the rejected items
    expect(after.filter((e) => e.id === ok1?.id || e.id === ok2?.id).map((e) => e.room)).toEqual([
      `order:${run}-ok1`,
      `order:${run}-ok2`,
    ]);
    expect(after.some((e) => e.room === `order:${bad}`)).toBe(false);
  });

  it('PUBLISH_BATCH_MAX + 1 items -> 400 invalid_payload naming the limit, nothing queued', async () => {
    const max = gw.runtime.config.PUBLISH_BATCH_MAX;
    const run = unique();
    const before = (await queued()).length;
    const res = await batch({
      events: Array.from({ length: max + 1 }, (_, i) => orderStatus(`${run}-${i}`)),
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'invalid_payload',
      issues: [expect.objectContaining({ path: ['events'] })],
    });
    expect(res.body.error.message).toContain(String(max));
    expect((await queued()).length).toBe(before);
  });

  it.each([
    ['not JSON', 'invalid_json', '{"events": ['],
    ['a JSON string', 'invalid_json', '"events"'],
    ['{}', 'invalid_payload', '{}'],
    ['events not an array', 'invalid_payload', '{"events":"x"}'],
    ['an empty batch', 'invalid_payload', '{"events":[]}'],
    ['a bare array', 'invalid_payload', JSON.stringify([orderStatus('bare')])],
  ])('%s -> 400 %s, nothing queued', async (_what, code, raw) => {
    const before = (await queued()).length;
    const res = await batch(raw, true);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code, message: expect.any(String) as unknown });
    expect((await queued()).length).toBe(before);
  });

  it('an Idempotency-Key header is refused (keys go on the items), nothing queued', async () => {
    const before = (await queued()).length;
    const res = await post(
      stack,
      gw,
      '/api/events/batch',
      { events: [orderStatus(unique())] },
      { headers: { ...stack.apiHeaders(), 'idempotency-key': unique() } },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_payload');
    expect((await queued()).length).toBe(before);
  });

  it('throttled events in a batch go to the throttle store (one window per key)', async () => {
    const postId = `b-${unique()}`;
    const like = (userId: string, likeCount: number) => ({
      event: 'post_liked',
      data: { postId, userId, likeCount },
    });
    const before = (await queued()).length;
    const res = await batch({ events: [like('u1', 1), like('u2', 2)] });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(2);
    const [first, second] = res.body.results;
    expect(second?.id).toBe(first?.id); // both coalesced into one window
    const { items } = await gw.runtime.management.listWindows({ event: 'post_liked', limit: 1000 });
    expect(items.filter((w) => w.room === `post:${postId}`)).toEqual([
      expect.objectContaining({
        key: `social:post_liked:post:${postId}`,
        event: 'post_liked',
        count: 2,
        id: first?.id,
      }),
    ]);
    expect((await queued()).length).toBe(before);
  });

  it('an idempotency key already used returns replayed: true with the same id, queued once', async () => {
    const run = unique();
    const key = `batch-${run}`;
    const item = { ...orderStatus(run), idempotencyKey: key };
    const first = await batch({ events: [item] });
    expect(first.body).toEqual({
      accepted: 1,
      rejected: 0,
      results: [{ id: expect.any(String) as unknown }],
    });
    const id = first.body.results[0]!.id;
    // Again in a later batch, and twice within one batch: the same id, published once.
    const again = await batch({ events: [orderStatus(`${run}-other`), item] });
    expect(again.body.results).toEqual([
      { id: expect.any(String) as unknown },
      { id, replayed: true },
    ]);
    const fresh = { ...orderStatus(`${run}-x`), idempotencyKey: `${key}-x` };
    const twice = await batch({ events: [fresh, fresh] });
    expect(twice.body.results).toEqual([
      { id: expect.any(String) as unknown },
      { id: twice.body.results[0]!.id, replayed: true },
    ]);

    const all = await queued();
    expect(all.filter((e) => e.id === id)).toHaveLength(1);
    expect(all.filter((e) => e.room === `order:${run}`)).toHaveLength(1);
    expect(all.filter((e) => e.room === `order:${run}-x`)).toHaveLength(1);
  });
});

describe('POST /api/events/batch with a small PUBLISH_BATCH_MAX_BYTES', () => {
  const stack = new Stack(testConfig({ PUBLISH_BATCH_MAX_BYTES: '2048' }));
  afterAll(() => stack.close());

  it('a body over the limit -> 413 payload_too_large, nothing queued; one under it is accepted', async () => {
    const gw = await stack.gateway();
    const run = unique();
    const big = { events: Array.from({ length: 40 }, (_, i) => orderStatus(`${run}-${i}`)) };
    expect(JSON.stringify(big).length).toBeGreaterThan(2048);
    const res = await post(stack, gw, '/api/events/batch', big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await queuedEvents(gw.runtime.events.queue)).toEqual([]);

    const small = await post(stack, gw, '/api/events/batch', { events: big.events.slice(0, 5) });
    expect(small.status).toBe(200);
    expect(await queuedEvents(gw.runtime.events.queue)).toHaveLength(5);
  });
});

describe('POST /api/events/batch with Redis down', () => {
  let server: TestRedisServer;
  let stack: Stack;
  beforeAll(async () => {
    server = await TestRedisServer.start();
    stack = new Stack(testConfig({ REDIS_URL: server.url, ENQUEUE_TIMEOUT_MS: '500' }));
  });
  afterAll(async () => {
    await server.startProcess().catch(() => undefined);
    await stack.close();
    await server.close();
  });

  it('items get unavailable in their slots (200); all unavailable -> 503 like the single route', async () => {
    const gw = await stack.gateway();
    await server.stopProcess();
    const run = unique();

    const mixed = await post(stack, gw, '/api/events/batch', {
      events: [orderStatus(run), { event: 'nope', data: {} }],
    });
    expect(mixed.status).toBe(200);
    expect(mixed.body).toMatchObject({
      accepted: 0,
      rejected: 2,
      results: [{ error: { code: 'unavailable' } }, { error: { code: 'unknown_event' } }],
    });

    const all = await post(stack, gw, '/api/events/batch', {
      events: [orderStatus(`${run}-1`), orderStatus(`${run}-2`)],
    });
    const single = await post(stack, gw, '/api/events', orderStatus(`${run}-3`));
    expect(single).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(all).toMatchObject({
      status: 503,
      body: { error: { code: 'unavailable', message: expect.any(String) as unknown } },
    });
    expect(Object.keys(all.body)).toEqual(['error']);
  });
});

describe('HTTP rate limits and the publish token', () => {
  const stacks: Stack[] = [];
  const open = async (overrides: Record<string, string> = {}) => {
    const stack = new Stack(testConfig(overrides));
    stacks.push(stack);
    return { stack, gw: await stack.gateway() };
  };
  afterAll(async () => {
    for (const s of stacks) await s.close();
  });
  const event = (i: number) => ({
    event: 'post_liked',
    data: { postId: `rl${i % 10}`, userId: 'u1', likeCount: i },
  });

  it('default config: 300 quick publish-token requests all get 202, and no per-token bucket is charged', async () => {
    const { stack, gw } = await open();
    expect(gw.runtime.config.RATE_HTTP_BURST).toBeLessThan(300);
    const statuses = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        post(stack, gw, '/api/events', event(i)).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    const req = new IncomingMessage(new Socket());
    req.headers = { authorization: `Bearer ${stack.config.PUBLISH_TOKEN}` };
    const subject = httpSubjectOf([stack.config.PUBLISH_TOKEN])(req as Request);
    expect(await gw.runtime.redis.exists(gw.runtime.keys.rateBucket('http', subject))).toBe(0);
  });

  it('RATE_PUBLISH_PER_SEC=1, BURST=2: the third quick request gets 429 rate_limited; other callers have their own bucket', async () => {
    const { stack, gw } = await open({ RATE_PUBLISH_PER_SEC: '1', RATE_PUBLISH_BURST: '2' });
    expect((await post(stack, gw, '/api/events', event(1))).status).toBe(202);
    expect((await post(stack, gw, '/api/events/batch', { events: [event(2)] })).status).toBe(200);
    const third = await post(stack, gw, '/api/events', event(3));
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({
      code: 'rate_limited',
      retryAfterMs: expect.any(Number) as unknown,
    });
    expect(third.headers.get('retry-after')).toEqual(expect.any(String));
    // The publish bucket is empty, yet a caller without the token is refused for its token, not its rate.
    const other = await post(stack, gw, '/api/events', event(4), {
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token' },
    });
    expect(other.status).toBe(401);
  });

  it('a wrong token, another wrong token and no token share the caller address bucket on /api; /admin stays limited for the publish token too', async () => {
    const { stack, gw } = await open({ RATE_HTTP_BURST: '2', RATE_HTTP_PER_SEC: '1' });
    const json = { 'content-type': 'application/json' };
    const statusesOf = async (path: string, headers: Record<string, string>) => {
      const out: number[] = [];
      for (let i = 0; i < 3; i++)
        out.push((await post(stack, gw, path, event(i), { headers })).status);
      return out;
    };
    expect(
      await statusesOf('/api/events', { ...json, authorization: 'Bearer wrong-token-0123456789' }),
    ).toEqual([401, 401, 429]);
    // A guess with a fresh token is not a fresh bucket: failed authentications are the address's.
    expect(
      await statusesOf('/api/events', {
        ...json,
        authorization: 'Bearer another-wrong-token-98765',
      }),
    ).toEqual([429, 429, 429]);
    expect(await statusesOf('/api/events', json)).toEqual([429, 429, 429]);
    expect(await statusesOf('/admin/throttle', stack.apiHeaders())).toEqual([401, 401, 429]);
    // The publish token on /api is not limited, though this stack's HTTP burst is 2.
    for (let i = 0; i < 5; i++)
      expect((await post(stack, gw, '/api/events', event(i))).status).toBe(202);
  });
});
