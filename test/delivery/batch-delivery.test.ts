import path from 'node:path';
import type { EventMeta } from '../../src/catalog';
import { listFailed } from '../../src/management/jobs';
import type { Gateway } from '../../src/gateway/server';
import type { WorkerProcess } from '../../src/app/worker';
import { Stack, testConfig } from '../helpers/stack';
import { call, nextEvent, record, until } from '../helpers/wait';

const FIXTURES = path.join(__dirname, '../fixtures/batch-handlers');
const ADMIN_TOKEN = 'admin-token-for-batch-tests-0123';

type Order = { orderId: string; status: string; note?: string };

/** Event ids in a room's history stream, oldest first (field `i` of each entry). */
async function historyIds(gw: Gateway, room: string): Promise<string[]> {
  const entries = (await gw.runtime.redis.xrange(
    gw.runtime.keys.history('/orders', room),
    '-',
    '+',
  )) as Array<[string, string[]]>;
  return entries.map(([, fields]) => fields[fields.indexOf('i') + 1] as string);
}

describe('delivery batches (real gateway, worker and clients)', () => {
  const stack = new Stack(
    testConfig({
      HANDLERS_DIR: FIXTURES,
      HANDLER_ATTEMPTS: '2',
      ADMIN_TOKEN,
      HISTORY_MAX_LEN: '10000',
    }),
  );
  let gw: Gateway;
  let worker: WorkerProcess;
  beforeAll(async () => {
    gw = await stack.gateway();
    worker = await stack.worker();
  });
  afterAll(() => stack.close());

  function setUp() {
    return { gw, worker, redis: gw.runtime.redis, prefix: stack.config.KEY_PREFIX };
  }

  async function orderClient(gw: Gateway, orderId: string) {
    const client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    await call(client, 'join_order', { orderId });
    return client;
  }

  it('a burst of 5,000 numbered events reaches a client complete and in order, in several batches', async () => {
    const { gw } = setUp();
    const client = await orderClient(gw, 'burst');
    const seen = record<Order, EventMeta>(client, 'order_status_changed');
    const jobsBefore = Number(
      (await gw.runtime.redis.get(`${gw.runtime.keys.bullPrefix}:${stack.config.QUEUE_NAME}:id`)) ??
        0,
    );
    // Sent in waves without waiting for delivery: several batches are in flight at once.
    for (let wave = 0; wave < 10; wave++) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          gw.runtime.events.emitToOrder('order_status_changed', 'burst', {
            orderId: 'burst',
            status: 'paid',
            note: String(wave * 500 + i),
          }),
        ),
      );
    }
    await until(
      () => new Set(seen.map(([, m]) => m.id)).size >= 5000,
      30_000,
      '5,000 distinct events',
    );
    const firstSeen = new Map<string, number>();
    for (const [data, meta] of seen)
      if (!firstSeen.has(meta.id)) firstSeen.set(meta.id, Number(data.note));
    expect([...firstSeen.values()]).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    const jobs =
      Number(
        await gw.runtime.redis.get(`${gw.runtime.keys.bullPrefix}:${stack.config.QUEUE_NAME}:id`),
      ) - jobsBefore;
    expect(jobs).toBeGreaterThan(1);
    expect(jobs).toBeLessThan(5000);
  });

  it('a handler failing on one event of a batch: only that event is retried and listed; nothing is emitted twice', async () => {
    const { gw, worker, redis, prefix } = setUp();
    await redis.set(`${prefix}:test:picky-fail`, '1');
    try {
      const client = await orderClient(gw, 'h1');
      const seen = record<Order, EventMeta>(client, 'order_status_changed');
      const notes = ['a', 'b', 'fail', 'c', 'd'];
      const ids = (
        await Promise.all(
          notes.map((note) =>
            gw.runtime.events.emitToOrder('order_status_changed', 'h1', {
              orderId: 'h1',
              status: 'paid',
              note,
            }),
          ),
        )
      ).map((a) => a.id);
      const failedId = ids[2]!;
      const queues = { delivery: gw.runtime.events.queue, handlers: worker.handlers.queue };
      await until(
        async () => (await listFailed(queues, { limit: 10 })).some((f) => f.eventId === failedId),
        15_000,
        'the failing event listed',
      );

      const [failed] = (await listFailed(queues, { limit: 10 })).filter(
        (f) => f.eventId === failedId,
      );
      expect(failed).toMatchObject({
        queue: 'handlers',
        id: `${failedId}.picky`,
        name: 'picky',
        attemptsMade: 2,
      });
      // The handler's other events ran once each (the batch was not re-run for the failure).
      const handled = await redis.lrange(`${prefix}:test:picky`, 0, -1);
      expect(handled.filter((id) => ids.includes(id)).sort()).toEqual(
        ids.filter((id) => id !== failedId).sort(),
      );
      // Delivered once each, and one history entry each.
      expect(seen.map(([, m]) => m.id)).toEqual(ids);
      expect(await historyIds(gw, 'order:h1')).toEqual(ids);
    } finally {
      await redis.del(`${prefix}:test:picky-fail`); // the failure is this test's only
    }
  });

  it('a batch emitted again (a re-run job) publishes nothing twice and runs its handlers once', async () => {
    const { gw, worker, redis, prefix } = setUp();
    await redis.del(`${prefix}:test:picky-fail`);
    const client = await orderClient(gw, 'd1');
    const seen = record<Order, EventMeta>(client, 'order_status_changed');
    const items = ['x', 'y', 'z'].map((note, i) => ({
      event: 'order_status_changed',
      data: { orderId: 'd1', status: 'paid', note },
      meta: {
        id: `rerun-${i}-${Date.now()}`,
        ts: Date.now(),
        ns: '/orders' as const,
        room: 'order:d1',
      },
    }));
    const ids = items.map((i) => i.meta.id);
    const first = await worker.emitter.emit(
      ids[0]!,
      items.map((i) => ({ ...i, meta: { ...i.meta } })),
    );
    const again = await worker.emitter.emit(
      ids[0]!,
      items.map((i) => ({ ...i, meta: { ...i.meta } })),
    );
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.items.map((i) => i.meta.offset)).toEqual(first.items.map((i) => i.meta.offset));
    // A barrier: one more event; once it arrives, a second copy of the first three would have too.
    const { id: last } = await gw.runtime.events.emitToOrder('order_status_changed', 'd1', {
      orderId: 'd1',
      status: 'shipped',
    });
    await until(() => seen.some(([, m]) => m.id === last), 5000, 'the barrier event');
    expect(seen.map(([, m]) => m.id)).toEqual([...ids, last]);
    expect(await historyIds(gw, 'order:d1')).toEqual([...ids, last]);
    await until(
      async () => (await redis.lrange(`${prefix}:test:picky`, 0, -1)).includes(last),
      10_000,
      'handlers of the barrier',
    );
    const handled = await redis.lrange(`${prefix}:test:picky`, 0, -1);
    expect(handled.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
  });

  it('an operator flush is emitted by a worker and runs the event handlers', async () => {
    const { gw, redis, prefix } = setUp();
    const client = await stack.client(gw, '/social', await stack.auth('fan'));
    await call(client, 'join_post', { postId: 'op1' });
    // Park the window's own flush job: only the operator's flush can emit it.
    await gw.runtime.events.throttleQueue.pause();
    try {
      const got = nextEvent<{ likeCount: number }, EventMeta>(client, 'post_liked');
      const { id: windowId } = await gw.runtime.events.emit('post_liked', {
        postId: 'op1',
        userId: 'u',
        likeCount: 1,
      });
      await gw.runtime.events.emit('post_liked', { postId: 'op1', userId: 'u', likeCount: 2 });
      const res = await fetch(stack.url(gw, '/admin/throttle/flush'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ key: 'social:post_liked:post:op1' }),
      });
      expect(await res.json()).toEqual({ windows: 1, events: 2 });
      const [data, meta] = await got;
      expect(data.likeCount).toBe(2);
      expect(meta).toMatchObject({ id: windowId, coalesced: 2 });
      await until(
        async () => (await redis.lrange(`${prefix}:test:picky`, 0, -1)).includes(windowId),
        10_000,
        'the handler of the flushed window',
      );
    } finally {
      await gw.runtime.events.throttleQueue.resume();
    }
  });
});
