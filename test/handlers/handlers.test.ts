import path from 'node:path';
import { discoverHandlers } from '../../src/handlers/discover';
import type { Gateway } from '../../src/gateway/server';
import { DEFAULT_HANDLERS_DIR } from '../../src/handlers/runner';
import { listFailed, queueStatus, retryFailed, setPaused } from '../../src/management/jobs';
import type { WorkerProcess } from '../../src/app/worker';
import { Stack, testConfig } from '../helpers/stack';
import { call, nextEvent, until } from '../helpers/wait';

/** Which events have which handlers: `{ post_liked: ['activity-log'] }`. */
function handlersByEvent(handlers: ReturnType<typeof discoverHandlers>): Record<string, string[]> {
  const byEvent: Record<string, string[]> = {};
  for (const h of handlers) for (const e of h.events) (byEvent[e] ??= []).push(h.name);
  return byEvent;
}

const FIXTURES = path.join(__dirname, '../fixtures/handlers');

describe('handler discovery', () => {
  it('finds every exported handler in the folder, with no registration list', () => {
    const found = discoverHandlers(FIXTURES);
    expect(found.map((h) => h.name).sort()).toEqual(['flaky', 'recorder']);
    expect(handlersByEvent(found)).toEqual({
      order_status_changed: ['flaky', 'recorder'],
      payment_confirmed: ['recorder'],
    });
  });

  it('the shipped folder has the activity-log example', () => {
    expect(discoverHandlers(DEFAULT_HANDLERS_DIR).map((h) => h.name)).toContain('activity-log');
  });

  it('a missing folder means no handlers', () => {
    expect(discoverHandlers(path.join(FIXTURES, 'nope'))).toEqual([]);
  });
});

describe('server-side handlers in the worker', () => {
  const stack = new Stack(testConfig({ HANDLERS_DIR: FIXTURES, HANDLER_ATTEMPTS: '2' }));
  let gw: Gateway;
  let worker: WorkerProcess;
  beforeAll(async () => {
    gw = await stack.gateway();
    worker = await stack.worker();
  });
  afterAll(() => stack.close());

  it('a throwing handler blocks neither the emit nor the other handler; its failure is listed and retried', async () => {
    const { redis } = gw.runtime;
    const prefix = stack.config.KEY_PREFIX;
    await redis.set(`${prefix}:test:fail`, '1');

    const client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    await call(client, 'join_order', { orderId: 'h1' });
    const got = nextEvent<unknown, { id: string }>(client, 'order_status_changed');
    const { id } = await gw.runtime.events.emitToOrder('order_status_changed', 'h1', {
      orderId: 'h1',
      status: 'paid',
    });
    expect((await got)[1].id).toBe(id);

    await until(
      async () =>
        (await redis.lrange(`${prefix}:test:handled`, 0, -1)).includes(
          `order_status_changed:${id}`,
        ),
      10_000,
      'recorder',
    );
    const queues = { delivery: gw.runtime.events.queue, handlers: worker.handlers.queue };
    await until(
      async () => (await listFailed(queues, { limit: 10 })).length === 1,
      15_000,
      'flaky to fail twice',
    );
    const [failed] = await listFailed(queues, { limit: 10 });
    expect(failed).toMatchObject({
      queue: 'handlers',
      id: `${id}.flaky`,
      name: 'flaky',
      event: 'order_status_changed',
      eventId: id,
      attemptsMade: 2,
    });
    expect(failed?.failedReason).toContain(`flaky handler refused ${id}`);

    await redis.del(`${prefix}:test:fail`);
    expect(await retryFailed(queues, { queue: 'handlers', id: `${id}.flaky` })).toEqual({
      retried: 1,
    });
    await until(
      async () => (await redis.lrange(`${prefix}:test:flaky`, 0, -1)).includes(id),
      10_000,
      'flaky retry',
    );
    expect(await listFailed(queues, { limit: 10 })).toEqual([]);
    await expect(retryFailed(queues, { queue: 'handlers', id: 'nope' })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('pause holds delivery without losing events; resume delivers them', async () => {
    const queues = { delivery: gw.runtime.events.queue, handlers: worker.handlers.queue };
    const client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    await call(client, 'join_order', { orderId: 'p1' });
    const seen: string[] = [];
    client.on('order_status_changed', (_d: unknown, meta: { id: string }) => seen.push(meta.id));

    const status = await setPaused(queues, true, 'delivery');
    expect(status.find((s) => s.queue === 'delivery')?.paused).toBe(true);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(
        (
          await gw.runtime.events.emit('order_status_changed', {
            orderId: 'p1',
            status: 'preparing',
          })
        ).id,
      );
    await until(
      async () =>
        (await queueStatus(queues)).find((s) => s.queue === 'delivery')?.counts.wait === 20,
      5000,
      '20 waiting',
    );
    expect(seen).toEqual([]);

    await setPaused(queues, false, 'delivery');
    await until(() => seen.length === 20, 10_000, 'delivery after resume');
    expect([...seen].sort()).toEqual([...ids].sort());
  });
});

describe('the activity-log example handler', () => {
  const stack = new Stack();
  afterAll(() => stack.close());

  it('appends delivered social and order events to the activity stream', async () => {
    const gw = await stack.gateway();
    await stack.worker();
    const { id } = await gw.runtime.events.emit('post_commented', {
      postId: 'a1',
      commentId: 'c1',
      userId: 'u1',
      text: 'hello',
    });
    const { redis, keys } = gw.runtime;
    await until(async () => (await redis.xlen(keys.activityLog)) === 1, 10_000, 'activity entry');
    const [[, fields]] = (await redis.xrange(keys.activityLog, '-', '+')) as [[string, string[]]];
    expect(fields).toEqual([
      'id',
      id,
      'event',
      'post_commented',
      'room',
      'post:a1',
      'data',
      JSON.stringify({ postId: 'a1', commentId: 'c1', userId: 'u1', text: 'hello' }),
    ]);
  });
});
