import type { EventMeta } from '../../src/catalog';
import type { Gateway } from '../../src/gateway/server';
import { Stack, testConfig } from '../helpers/stack';
import { call, nextEvent, record, recordUntil, until } from '../helpers/wait';

type Emit<D> = [D, EventMeta];
/** Anonymous post-room clients (AUTH_MODE=anonymous): no presence transitions. */
const ANONYMOUS = {};
const sumCoalesced = (emits: Emit<unknown>[]) =>
  emits.reduce((n, [, meta]) => n + (meta.coalesced ?? 0), 0);

describe('throttled delivery through the throttle store', () => {
  // Each test has its own gateway, worker and Redis prefix: no window of another test is throttle.
  let stack: Stack;
  let gw: Gateway;
  beforeEach(async () => {
    stack = new Stack(testConfig({ AUTH_MODE: 'anonymous' }));
    gw = await stack.gateway();
    await stack.worker();
  });
  afterEach(() => stack.close());

  it('latest: a burst of 10,000 likes ends in one emit per window, the last with the final count', async () => {
    const client = await stack.client(gw, '/social');
    await call(client, 'join_post', { postId: 'hot' });
    const emits = recordUntil<{ userId: string; likeCount: number }, EventMeta>(
      client,
      'post_liked',
      (data) => data.userId === 'barrier',
    );

    const total = 10_000;
    const windowIds = new Set<string>();
    const started = Date.now();
    for (let from = 0; from < total; from += 1000) {
      const chunk = Array.from({ length: 1000 }, (_, i) =>
        gw.runtime.events.emit('post_liked', {
          postId: 'hot',
          userId: `u${from + i}`,
          likeCount: from + i + 1,
        }),
      );
      for (const { id } of await Promise.all(chunk)) windowIds.add(id);
    }
    const burstMs = Date.now() - started;

    await until(() => sumCoalesced(emits) >= total, 15_000, 'every like to be emitted');
    // A barrier: one more like, in a new window of the same room; once it is emitted, a stray extra
    // emit of the burst's windows would have been too.
    const { id: barrierId } = await gw.runtime.events.emit('post_liked', {
      postId: 'hot',
      userId: 'barrier',
      likeCount: total + 1,
    });
    const [, barrierMeta] = await emits.barrier();
    expect(barrierMeta).toMatchObject({ id: barrierId, coalesced: 1 });
    expect(windowIds.has(barrierId)).toBe(false);
    expect(sumCoalesced(emits)).toBe(total);
    // Exactly one emit per window, and each carries the id the accept returned for that window.
    expect(emits.map(([, meta]) => meta.id).sort()).toEqual([...windowIds].sort());
    // 1,000 ms windows: a burst spanning `burstMs` touches at most ceil(burstMs / 1000) + 1 of them.
    expect(emits.length).toBeLessThanOrEqual(Math.ceil(burstMs / 1000) + 1);
    expect(emits.at(-1)?.[0]).toEqual({ postId: 'hot', userId: `u${total - 1}`, likeCount: total });
    expect(emits.every(([, meta]) => meta.ns === '/social' && meta.room === 'post:hot')).toBe(true);
  });

  it('batch: items arrive in order, at most the cap per emit, none lost across windows', async () => {
    // A /notification socket is in its own user room from the start.
    const client = await stack.client(gw, '/notification', await stack.auth('reader'));
    const emits = record<{ items: { title: string }[] }, EventMeta>(client, 'notification');

    const sent = Array.from({ length: 45 }, (_, i) => `n${i}`);
    await Promise.all(
      sent.map((title) =>
        gw.runtime.events.emitToUser('notification', 'reader', { title, body: 'b' }),
      ),
    );

    await until(() => sumCoalesced(emits) >= sent.length, 10_000, 'every notification');
    expect(emits.flatMap(([data]) => data.items.map((item) => item.title))).toEqual(sent);
    expect(
      emits.every(
        ([data, meta]) => data.items.length <= 20 && meta.coalesced === data.items.length,
      ),
    ).toBe(true);
    expect(emits.length).toBe(3); // cap 20: 20 + 20 sealed early, 5 at the window's end
    expect(new Set(emits.map(([, meta]) => meta.id)).size).toBe(emits.length);
  });

  it('leading: the first event goes out at once, the rest of the window coalesce into one', async () => {
    const client = await stack.client(gw, '/chat');
    await call(client, 'join_chat', { chatId: 'c1' });
    const emits = record<{ messageId: string }, EventMeta>(client, 'message_read');

    const first = nextEvent<{ messageId: string }, EventMeta>(client, 'message_read');
    const accepted = await gw.runtime.events.emitToChat('message_read', 'c1', {
      chatId: 'c1',
      messageId: 'm0',
      userId: 'u0',
    });
    // Nothing is throttle for the first event: it was sent as an immediate delivery.
    expect(await gw.runtime.management.countWindows({ event: 'message_read' })).toEqual({
      windows: 0,
      events: 0,
    });
    const [data, meta] = await first;
    expect(data.messageId).toBe('m0');
    expect(meta).toMatchObject({ id: accepted.id, coalesced: 1 });

    for (let i = 1; i <= 5; i++)
      await gw.runtime.events.emitToChat('message_read', 'c1', {
        chatId: 'c1',
        messageId: `m${i}`,
        userId: `u${i}`,
      });
    expect(await gw.runtime.management.countWindows({ event: 'message_read' })).toEqual({
      windows: 1,
      events: 5,
    });
    await until(() => emits.length === 2, 5000, 'the trailing emit');
    expect(emits[1]?.[0].messageId).toBe('m5');
    expect(emits[1]?.[1].coalesced).toBe(5);
  });

  it('different rooms and different events never merge', async () => {
    // Anonymous sockets: no presence transition, so only this test's own windows are throttle.
    const one = await stack.client(gw, '/social', ANONYMOUS);
    const two = await stack.client(gw, '/social', ANONYMOUS);
    await call(one, 'join_post', { postId: 'p1' });
    await call(two, 'join_post', { postId: 'p2' });
    const likesOne = record<{ postId: string; likeCount: number }, EventMeta>(one, 'post_liked');
    const reviewsOne = record<{ items: { postId: string }[] }, EventMeta>(one, 'post_reviewed');
    const likesTwo = record<{ postId: string; likeCount: number }, EventMeta>(two, 'post_liked');
    const reviewsTwo = record<unknown, EventMeta>(two, 'post_reviewed');

    const work: Promise<unknown>[] = [];
    for (let i = 1; i <= 30; i++) {
      work.push(gw.runtime.events.emit('post_liked', { postId: 'p1', userId: 'u', likeCount: i }));
      if (i <= 10)
        work.push(
          gw.runtime.events.emit('post_liked', { postId: 'p2', userId: 'u', likeCount: 100 + i }),
        );
      if (i <= 4)
        work.push(
          gw.runtime.events.emit('post_reviewed', {
            postId: 'p1',
            reviewId: `r${i}`,
            userId: 'u',
            rating: 5,
          }),
        );
    }
    await Promise.all(work);
    const keys = (await gw.runtime.management.listWindows({ limit: 10 })).items.map(
      (item) => `${item.key}=${item.count}`,
    );
    expect(keys.sort()).toEqual([
      'social:post_liked:post:p1=30',
      'social:post_liked:post:p2=10',
      'social:post_reviewed:post:p1=4',
    ]);

    await until(
      () =>
        sumCoalesced(likesOne) === 30 &&
        sumCoalesced(likesTwo) === 10 &&
        sumCoalesced(reviewsOne) === 4,
      8000,
      'all windows',
    );
    expect(likesOne.every(([data]) => data.postId === 'p1')).toBe(true);
    expect(likesTwo.every(([data]) => data.postId === 'p2')).toBe(true);
    expect(likesOne.at(-1)?.[0].likeCount).toBe(30);
    expect(likesTwo.at(-1)?.[0].likeCount).toBe(110);
    expect(reviewsOne.flatMap(([data]) => data.items.map((r) => r.postId))).toEqual([
      'p1',
      'p1',
      'p1',
      'p1',
    ]);
    expect(reviewsTwo).toHaveLength(0);
  });
});
