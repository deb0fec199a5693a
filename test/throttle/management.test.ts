import type { EventMeta } from '../../src/catalog';
import { Stack, testConfig } from '../helpers/stack';
import { call, nextEvent, record, until } from '../helpers/wait';

/** Anonymous post-room clients: no presence transitions, so only the test's own windows are throttle. */
const ANONYMOUS = {};

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

/**
 * A worker runs (operator flushes and force-emits are emitted by workers), but the throttle queue
 * is paused: windows stay throttle until the test flushes, drops or lists them.
 */
describe('management core and admin HTTP against real open windows', () => {
  // Each test has its own stack and Redis prefix: no other test's windows are throttle.
  let stack: Stack;
  beforeEach(() => {
    stack = new Stack(testConfig({ ADMIN_TOKEN, AUTH_MODE: 'anonymous' }));
  });
  afterEach(() => stack.close());

  async function seed() {
    const gw = await stack.gatewayWithParkedFlushes();
    const runtime = gw.runtime;
    const likes = (postId: string, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          runtime.events.emit('post_liked', { postId, userId: 'u', likeCount: i + 1 }),
        ),
      );
    return { gw, likes };
  }

  it('pages through windows of every shard once each, in first-seen order, while others flush between pages', async () => {
    const { gw, likes } = await seed();
    const m = gw.runtime.management;
    const posts = Array.from({ length: 60 }, (_, i) => `page${String(i).padStart(2, '0')}`);
    for (const post of posts) await likes(post, 1);
    const keys = posts.map((post) => `social:post_liked:post:${post}`);
    // The rooms spread over the store's shards.
    expect(new Set(keys.map((key) => gw.runtime.keys.throttleShardOf(key))).size).toBeGreaterThan(
      8,
    );

    const listed: string[] = [];
    const flushed = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await m.listWindows({
        event: 'post_liked',
        limit: 7,
        ...(cursor ? { cursor } : {}),
      });
      listed.push(...page.items.map((i) => i.key));
      // Between pages, one window already listed and one not yet listed go away.
      for (const key of [
        listed[listed.length - 1],
        keys.find((k) => !listed.includes(k) && !flushed.has(k)),
      ]) {
        if (key && !flushed.has(key)) {
          await m.flushWindows({ key });
          flushed.add(key);
        }
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(new Set(listed).size).toBe(listed.length);
    // Everything not flushed before its turn is listed, in the order the windows opened.
    expect(listed).toEqual(keys.filter((key) => listed.includes(key) || !flushed.has(key)));
    expect(listed.length).toBeGreaterThan(40);
    await m.flushWindows({ all: true });
  });

  it('counts and lists entries (filters, pages), flushes one and all, drops one', async () => {
    const { gw, likes } = await seed();
    const m = gw.runtime.management;
    const client = await stack.client(gw, '/social', ANONYMOUS);
    await call(client, 'join_post', { postId: 'a' });
    await likes('a', 7);
    await likes('b', 3);
    await likes('c', 2);
    await gw.runtime.events.emitToOrder('order_status_changed', 'o1', {
      orderId: 'o1',
      status: 'paid',
    }); // immediate: never throttle
    await gw.runtime.events.emitToUser('notification', 'u9', { title: 't', body: 'b' });

    expect(await m.countWindows()).toEqual({ windows: 4, events: 13 });
    expect(await m.countWindows({ event: 'post_liked' })).toEqual({ windows: 3, events: 12 });
    expect(await m.countWindows({ namespace: '/notification' })).toEqual({ windows: 1, events: 1 });
    await expect(m.countWindows({ event: 'nope' })).rejects.toMatchObject({
      code: 'invalid_argument',
    });

    const page1 = await m.listWindows({ event: 'post_liked', limit: 2 });
    expect(page1.items.map((i) => [i.key, i.count, i.mode, i.namespace, i.room])).toEqual([
      ['social:post_liked:post:a', 7, 'latest', '/social', 'post:a'],
      ['social:post_liked:post:b', 3, 'latest', '/social', 'post:b'],
    ]);
    expect(page1.items.every((i) => i.ageMs >= 0)).toBe(true);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await m.listWindows({
      event: 'post_liked',
      limit: 2,
      cursor: page1.nextCursor ?? undefined,
    });
    expect(page2.items.map((i) => i.key)).toEqual(['social:post_liked:post:c']);

    // Flush one: the client gets it now, with the window's id and count; the others stay.
    const emitted = nextEvent<{ likeCount: number }, EventMeta>(client, 'post_liked');
    expect(await m.flushWindows({ key: 'social:post_liked:post:a' })).toEqual({
      windows: 1,
      events: 7,
    });
    const [data, meta] = await emitted;
    expect(data.likeCount).toBe(7);
    expect(meta).toMatchObject({ id: page1.items[0]?.id, coalesced: 7, room: 'post:a' });
    await expect(m.flushWindows({ key: 'social:post_liked:post:a' })).rejects.toMatchObject({
      code: 'not_found',
    });

    const dropped = await m.dropWindow({ key: 'social:post_liked:post:b' });
    expect(dropped.dropped).toMatchObject({
      key: 'social:post_liked:post:b',
      count: 3,
      data: { likeCount: 3 },
    });
    await expect(m.dropWindow({ key: 'social:post_liked:post:b' })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(m.dropWindow({ key: 'not a key' })).rejects.toMatchObject({
      code: 'invalid_argument',
    });

    const progress: Array<[number, number]> = [];
    expect(
      await m.flushWindows({ all: true }, (done, total) => progress.push([done, total])),
    ).toEqual({ windows: 2, events: 3 });
    expect(progress.at(-1)).toEqual([2, 2]);
    expect(await m.countWindows()).toEqual({ windows: 0, events: 0 });
  });

  it('force-emit goes out at once and leaves the open window as it was', async () => {
    const { gw, likes } = await seed();
    const m = gw.runtime.management;
    const client = await stack.client(gw, '/social', ANONYMOUS);
    await call(client, 'join_post', { postId: 'f' });
    await likes('f', 4);
    const before = (await m.listWindows({ event: 'post_liked', limit: 10 })).items.find(
      (i) => i.key === 'social:post_liked:post:f',
    );

    const seen = nextEvent<{ likeCount: number }, EventMeta>(client, 'post_liked');
    const result = await m.forceEmit(
      'post_liked',
      { postId: 'f', userId: 'op', likeCount: 99 },
      { postId: 'f' },
    );
    const [data, meta] = await seen;
    expect(data).toEqual({ postId: 'f', userId: 'op', likeCount: 99 });
    expect(meta).toMatchObject({ id: result.id, room: 'post:f', coalesced: 1 });

    const after = (await m.listWindows({ event: 'post_liked', limit: 10 })).items.find(
      (i) => i.key === 'social:post_liked:post:f',
    );
    expect(after).toMatchObject({ id: before?.id, count: 4 });
    await expect(m.forceEmit('post_liked', { postId: 'f' })).rejects.toMatchObject({
      code: 'invalid_payload',
    });
    await expect(m.forceEmit('no_such_event', {})).rejects.toMatchObject({ code: 'unknown_event' });
  });

  it('admin HTTP: 401 without the token, 400 with zod issues, JSON results with it', async () => {
    const { gw, likes } = await seed();
    await likes('h', 5);
    const admin = (path: string, init: RequestInit = {}, token: string | null = ADMIN_TOKEN) =>
      fetch(stack.url(gw, `/admin${path}`), {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });

    const noToken = await admin('/throttle/count', {}, null);
    expect(noToken.status).toBe(401);
    expect(((await noToken.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await admin('/throttle/count', {}, 'wrong-token-wrong-token-wrong')).status).toBe(401);

    const count = await admin('/throttle/count?event=post_liked');
    expect(count.status).toBe(200);
    expect(await count.json()).toMatchObject({ windows: 1, events: 5 });

    const list = (await (await admin('/throttle?limit=5')).json()) as {
      items: { key: string; count: number }[];
    };
    expect(list.items).toEqual([
      expect.objectContaining({ key: 'social:post_liked:post:h', count: 5 }),
    ]);

    const badLimit = await admin('/throttle?limit=0');
    expect(badLimit.status).toBe(400);
    const badBody = (await badLimit.json()) as { error: { issues: { path: unknown[] }[] } };
    expect(badBody.error.issues[0]?.path).toEqual(['limit']);
    expect(
      (await admin('/throttle/flush', { method: 'POST', body: JSON.stringify({ key: 'bad key' }) }))
        .status,
    ).toBe(400);
    expect(
      (await admin('/throttle/drop', { method: 'POST', body: JSON.stringify({}) })).status,
    ).toBe(400);

    const client = await stack.client(gw, '/social', ANONYMOUS);
    await call(client, 'join_post', { postId: 'h' });
    const emits = record<unknown, EventMeta>(client, 'post_liked');
    const forced = await admin('/emit', {
      method: 'POST',
      body: JSON.stringify({
        event: 'post_liked',
        data: { postId: 'h', userId: 'x', likeCount: 1 },
      }),
    });
    expect(forced.status).toBe(200);
    const badEmit = await admin('/emit', {
      method: 'POST',
      body: JSON.stringify({ event: 'post_liked', data: { postId: 'h' } }),
    });
    expect(badEmit.status).toBe(400);
    expect(((await badEmit.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_payload',
    );

    const flushed = await admin('/throttle/flush', {
      method: 'POST',
      body: JSON.stringify({ all: true }),
    });
    expect(await flushed.json()).toEqual({ windows: 1, events: 5 });
    const dropMissing = await admin('/throttle/drop', {
      method: 'POST',
      body: JSON.stringify({ key: 'social:post_liked:post:h' }),
    });
    expect(dropMissing.status).toBe(404);
    await until(() => emits.length >= 2, 5000, 'the forced and the flushed emit');
    expect(emits.map(([, meta]) => meta.coalesced)).toEqual([1, 5]);
  });
});
