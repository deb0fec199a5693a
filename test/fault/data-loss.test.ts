import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Gateway } from '../../src/gateway/server';
import { readHandlers } from '../../src/handlers/registry';
import { queueNames } from '../../src/wire/delivery-batch';
import { SWEEP_SCHEDULER_ID } from '../../src/throttle/jobs';
import { createKeys } from '../../src/redis/keys';
import type { WorkerProcess } from '../../src/app/worker';
import { TestRedisServer } from '../helpers/redis-server';
import { Stack, testConfig } from '../helpers/stack';
import { call, nextEvent, until } from '../helpers/wait';

const FIXTURES = path.join(__dirname, '../fixtures/handlers');

/**
 * Redis comes back without its data (FLUSHALL here; no persistence or a failover to an empty
 * replica look the same to the processes): the worker rebuilds what it created at start, without a
 * restart, and says so in /readyz meanwhile.
 */
describe('after Redis loses its data', () => {
  let server: TestRedisServer;
  let stack: Stack;
  let gw: Gateway;
  let worker: WorkerProcess;
  let admin: Redis;

  beforeAll(async () => {
    server = await TestRedisServer.start();
    stack = new Stack(
      testConfig({ REDIS_URL: server.url, HANDLERS_DIR: FIXTURES, SELF_HEAL_INTERVAL_MS: '200' }),
    );
    gw = await stack.gateway();
    worker = await stack.worker();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin.disconnect();
    await stack.close();
    await server.close();
  });

  it('handlers run again, the sweep scheduler and the handler registry are back, and readiness returns to ok', async () => {
    const keys = createKeys(stack.config.KEY_PREFIX);
    const handled = `${keys.prefix}:test:handled`;
    const client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    expect(await call(client, 'join_order', { orderId: 'dl' })).toMatchObject({ ok: true });
    const publish = async (note: string) => {
      const arrived = nextEvent<{ note: string }, { id: string }>(
        client,
        'order_status_changed',
        10_000,
      );
      const res = await stack.post(gw, '/api/events', {
        event: 'order_status_changed',
        data: { orderId: 'dl', status: 'preparing', note },
      });
      expect(res.status).toBe(202);
      const [, meta] = await arrived;
      return meta.id;
    };

    const before = await publish('before');
    await until(
      async () => (await admin.lrange(handled, 0, -1)).includes(`order_status_changed:${before}`),
      10_000,
      'the handler ran before the loss',
    );
    expect((await worker.ready()).ok).toBe(true);

    await admin.flushall();

    // The inbox's consumer group is created again on the next read (NOGROUP), and the handler runs.
    const after = await publish('after');
    await until(
      async () => (await admin.lrange(handled, 0, -1)).includes(`order_status_changed:${after}`),
      15_000,
      'the handler ran after the loss',
    );

    const throttle = new Queue(queueNames(stack.config.QUEUE_NAME).throttle, {
      connection: admin,
      prefix: keys.bullPrefix,
    });
    try {
      await until(
        async () => (await throttle.getJobScheduler(SWEEP_SCHEDULER_ID)) !== undefined,
        10_000,
        'the sweep scheduler is back',
      );
    } finally {
      await throttle.close();
    }
    await until(
      async () => (await readHandlers(admin, keys)).length > 0,
      10_000,
      'the handler registry is back',
    );
    expect((await readHandlers(admin, keys)).map((h) => h.name).sort()).toEqual([
      'flaky',
      'recorder',
    ]);
    await until(async () => (await worker.ready()).ok, 10_000, 'worker readiness ok again');
    expect((await worker.ready()).checks).toMatchObject({ inbox: 'ok', state: 'ok' });
  });
});
