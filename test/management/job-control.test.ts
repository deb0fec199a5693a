import path from 'node:path';
import type { FailedJob, HandlerSummary, QueueStatus } from '../../src/management/jobs';
import { runSb } from '../helpers/cli';
import { Stack, testConfig } from '../helpers/stack';
import { queuedEvents } from '../helpers/queue';
import { call, until } from '../helpers/wait';

const ADMIN_TOKEN = 'admin-token-for-job-control-0123';
const FIXTURES = path.join(__dirname, '../fixtures/handlers');

/** Failed jobs, pause/resume and handler introspection: the CLI and /admin over the same core. */
describe('sb failed|queue|handlers and /admin/failed|queue|handlers', () => {
  const stack = new Stack(
    testConfig({ HANDLERS_DIR: FIXTURES, HANDLER_ATTEMPTS: '1', ADMIN_TOKEN }),
  );
  let gw: Awaited<ReturnType<Stack['gateway']>>;
  const sb = (...args: string[]) => runSb(stack.config, args);
  const admin = async (
    p: string,
    body?: unknown,
    token: string | null = ADMIN_TOKEN,
  ): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(stack.url(gw, `/admin${p}`), {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    gw = await stack.gateway();
    await stack.worker();
  });
  afterAll(() => stack.close());

  it('handlers: what the worker loaded, per event, the same from the CLI and /admin', async () => {
    const expected = {
      handlers: [
        { name: 'flaky', events: ['order_status_changed'], failed: 0 },
        { name: 'recorder', events: ['order_status_changed', 'payment_confirmed'], failed: 0 },
      ],
      byEvent: { order_status_changed: 2, payment_confirmed: 1 },
    };
    const cli = await sb('handlers', '--json');
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual(expected);
    expect((await admin('/handlers')).body).toEqual(expected);
    const table = await sb('handlers');
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+EVENTS\s+FAILED$/);
    expect(table.stdout).toContain(
      'handlers per event: order_status_changed=2 payment_confirmed=1',
    );
  });

  it('a failed handler job is listed, counted per handler, and retried by id', async () => {
    const { redis } = gw.runtime;
    const prefix = stack.config.KEY_PREFIX;
    await redis.set(`${prefix}:test:fail`, '1');
    const { id } = await gw.runtime.events.emitToOrder('order_status_changed', 'f1', {
      orderId: 'f1',
      status: 'paid',
    });
    await until(
      async () => ((await admin('/failed')).body as FailedJob[]).length === 1,
      15_000,
      'flaky to fail',
    );

    const listed = await sb('failed', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { queue: 'handlers', id: `${id}.flaky`, name: 'flaky', eventId: id, attemptsMade: 1 },
    ]);
    const table = await sb('failed', 'list', '--queue', 'handlers');
    expect(table.stdout.split('\n')[0]).toMatch(
      /^QUEUE\s+ID\s+NAME\s+EVENT\s+ATTEMPTSMADE\s+FAILEDAT\s+FAILEDREASON$/,
    );
    expect(table.stdout).toContain(`flaky handler refused ${id}`);
    expect(
      ((await admin('/handlers')).body as HandlerSummary).handlers.find((h) => h.name === 'flaky')
        ?.failed,
    ).toBe(1);
    expect((await admin('/failed?queue=delivery')).body).toEqual([]);

    // Bad input: one line, exit 2; an unknown job: exit 1.
    const noQueue = await sb('failed', 'retry', '--id', `${id}.flaky`);
    expect(noQueue).toMatchObject({ code: 2, stdout: '' });
    expect(noQueue.stderr).toMatch(/^sb: invalid_argument: invalid failed retry: id needs queue/);
    const unknown = await sb('failed', 'retry', '--queue', 'handlers', '--id', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^sb: not_found: no job nope in the handlers queue\n$/);
    expect((await sb('failed', 'retry', '--queue', 'elsewhere', '--all')).code).toBe(2);
    expect((await admin('/failed/retry', {})).status).toBe(400);
    // The admin API checks with the same rules, in the same words.
    expect(await admin('/failed/retry', { id: 'x' })).toMatchObject({
      status: 400,
      body: { error: { message: 'invalid body: id needs queue (delivery, throttle, handlers)' } },
    });

    await redis.del(`${prefix}:test:fail`);
    const retried = await sb('failed', 'retry', '--queue', 'handlers', '--id', `${id}.flaky`);
    expect(retried).toMatchObject({ code: 0, stdout: 'retried 1 jobs\n' });
    await until(
      async () => (await redis.lrange(`${prefix}:test:flaky`, 0, -1)).includes(id),
      10_000,
      'flaky after retry',
    );
    expect((await admin('/failed')).body).toEqual([]);
  });

  it('queue pause (CLI) holds delivery while events keep being accepted; resume (/admin) delivers them all', async () => {
    const client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    await call(client, 'join_order', { orderId: 'q1' });
    const seen: string[] = [];
    client.on('order_status_changed', (_d: unknown, meta: { id: string }) => seen.push(meta.id));

    const paused = await sb('queue', 'pause', '--queue', 'delivery', '--json');
    expect(paused.code).toBe(0);
    expect(
      (JSON.parse(paused.stdout) as QueueStatus[]).find((s) => s.queue === 'delivery')?.paused,
    ).toBe(true);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          await gw.runtime.events.emitToOrder('order_status_changed', 'q1', {
            orderId: 'q1',
            status: 'preparing',
          })
        ).id,
      );
    // At least our 5 wait (the sweep scheduler and presence events queue there too).
    await until(
      async () =>
        (((await admin('/queue')).body as QueueStatus[]).find((s) => s.queue === 'delivery')?.counts
          .wait ?? 0) >= 5,
      5000,
      '5 waiting',
    );
    // Every one of our 5 still sits in a waiting job: none was taken by the worker, so none can
    // have been delivered.
    await until(
      async () => {
        const waiting = new Set(
          (await queuedEvents(gw.runtime.events.queue, ['wait'])).map((e) => e.id),
        );
        return ids.every((id) => waiting.has(id));
      },
      5000,
      'our 5 events in waiting jobs',
    );
    expect(seen).toEqual([]);
    const status = await sb('queue', 'status');
    expect(status.stdout).toMatch(/^QUEUE\s+STATE\s+WAIT\s+ACTIVE\s+DELAYED\s+FAILED\n/);
    expect(status.stdout).toMatch(/\ndelivery\s+paused\s+([5-9]|\d\d+)\s/);

    expect((await admin('/queue/resume', { queue: 'nowhere' })).status).toBe(400);
    const resumed = await admin('/queue/resume', { queue: 'delivery' });
    expect(resumed.status).toBe(200);
    expect((resumed.body as QueueStatus[]).every((s) => !s.paused)).toBe(true);
    await until(() => seen.length === 5, 10_000, 'delivery after resume');
    // Every one of them, once (order within a burst follows the worker's emits: see docs/delivery.md, Order).
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it('/admin/queue/pause and /resume without a body switch every queue', async () => {
    const post = async (p: string) => {
      const res = await fetch(stack.url(gw, `/admin${p}`), {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      return { status: res.status, body: (await res.json()) as QueueStatus[] };
    };
    const paused = await post('/queue/pause');
    expect(paused.status).toBe(200);
    expect(paused.body.map((s) => [s.queue, s.paused])).toEqual([
      ['delivery', true],
      ['throttle', true],
      ['handlers', true],
    ]);
    const resumed = await post('/queue/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body.every((s) => !s.paused)).toBe(true);
  });

  it('/admin/failed, /queue and /handlers refuse a request without the admin token', async () => {
    for (const p of ['/failed', '/queue', '/handlers'])
      expect((await admin(p, undefined, null)).status).toBe(401);
    expect((await admin('/queue/pause', {}, null)).status).toBe(401);
  });
});
