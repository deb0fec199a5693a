import type { Job } from 'bullmq';
import type { DeliveryBatch } from '../../src/wire/delivery-batch';
import { openRuntime } from '../../src/app/runtime';
import type { Runtime } from '../../src/runtime';
import { GatewayError } from '../../src/errors';
import { prepareEnvelope } from '../../src/events/event-manager';
import { CATALOG_VERSION } from '../../src/catalog/version';
import { TestRedisServer } from '../helpers/redis-server';
import { queuedEvents } from '../helpers/queue';
import { deleteKeys } from '../helpers/redis';
import { testConfig } from '../helpers/stack';
import { until } from '../helpers/wait';

/** The delivery batches waiting in the queue; a job removed meanwhile is listed as undefined. */
const waitingBatches = async (rt: Runtime) =>
  (await rt.events.queue.getJobs(['wait'], 0, -1, true)) as Array<Job<DeliveryBatch> | undefined>;

describe('EventManager', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await openRuntime(testConfig());
  });
  afterAll(async () => {
    await rt.close();
    await deleteKeys(rt.config.KEY_PREFIX);
  });

  it('stores an event in a delivery batch job stamped with the catalog version, namespace and room from the catalog', async () => {
    const { id } = await rt.events.emitToPost('post_commented', 'p1', {
      postId: 'p1',
      commentId: 'c1',
      userId: 'u1',
      text: 'hey',
    });
    const jobs = await waitingBatches(rt);
    const job = jobs.find((j) =>
      (j?.data.events as Array<{ id: string }>).some((e) => e.id === id),
    );
    expect(job?.name).toBe('batch');
    expect(job?.data.catalog).toBe(CATALOG_VERSION);
    expect(job?.data.events).toContainEqual(
      expect.objectContaining({
        v: 1,
        id,
        event: 'post_commented',
        ns: '/social',
        room: 'post:p1',
      }),
    );
  });

  it('takes room params from the target first, then from the payload', () => {
    const fromPayload = prepareEnvelope({
      event: 'order_status_changed',
      data: { orderId: 'o1', status: 'paid' },
    });
    expect(fromPayload.room).toBe('order:o1');
    const fromTarget = prepareEnvelope({
      event: 'notification',
      data: { title: 't', body: 'b' },
      target: { userId: 42 },
    });
    expect(fromTarget.room).toBe('user:42');
    expect(fromTarget.data).toEqual({ title: 't', body: 'b', kind: 'info' });
  });

  it('gives ids that sort in creation order', () => {
    const ids = Array.from(
      { length: 2000 },
      () =>
        prepareEnvelope({ event: 'user_status_changed', data: { userId: 'u', status: 'online' } })
          .id,
    );
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a burst of emits travels in a few batch jobs, every event once and in accept order', async () => {
    const before = await rt.events.queue.count();
    const accepted = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        rt.events.emit('post_commented', {
          postId: 'burst',
          commentId: `m${i}`,
          userId: 'u1',
          text: 't',
        }),
      ),
    );
    const events = (await queuedEvents(rt.events.queue)).filter((e) => e.room === 'post:burst');
    expect(events.map((e) => e.id)).toEqual(accepted.map(({ id }) => id));
    expect(events.map((e) => (e.data as { commentId: string }).commentId)).toEqual(
      accepted.map((_, i) => `m${i}`),
    );
    expect((await rt.events.queue.count()) - before).toBeLessThanOrEqual(5);
  });

  it.each([
    [{ event: 'nope', data: {} }, 'unknown_event'],
    [{ event: 42, data: {} }, 'unknown_event'],
    [{ event: 'post_liked', data: { postId: '1', userId: 'u' } }, 'invalid_payload'],
    [{ event: 'post_liked', data: null }, 'invalid_payload'],
    [{ event: 'notification', data: { title: 't', body: 'b' } }, 'invalid_target'],
    [
      { event: 'notification', data: { title: 't', body: 'b' }, target: 'user:1' },
      'invalid_target',
    ],
  ])('rejects %j with %s and enqueues nothing', async (input, code) => {
    const before = await rt.events.queue.getJobCounts();
    const err = await rt.events.publish(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe(code);
    expect(await rt.events.queue.getJobCounts()).toEqual(before);
  });
});

describe('EventManager batch caps', () => {
  it('splits a burst at BATCH_MAX_EVENTS and BATCH_MAX_BYTES, keeping the order', async () => {
    const rt = await openRuntime(testConfig({ BATCH_MAX_EVENTS: '10', BATCH_MAX_BYTES: '4096' }));
    try {
      const text = 'x'.repeat(900); // ~1 KB an event: at most 4 fit under 4096 bytes
      const small = await Promise.all(
        Array.from({ length: 95 }, (_, i) =>
          rt.events.emit('post_commented', {
            postId: 's',
            commentId: `s${i}`,
            userId: 'u',
            text: 't',
          }),
        ),
      );
      const large = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          rt.events.emit('post_commented', { postId: 'l', commentId: `l${i}`, userId: 'u', text }),
        ),
      );
      const jobs = (await waitingBatches(rt)).sort((a, b) => Number(a?.id) - Number(b?.id));
      const batches = jobs.map(
        (j) => j?.data.events as Array<{ id: string; room: string; data: unknown }>,
      );
      expect(batches.every((b) => b.length >= 1 && b.length <= 10)).toBe(true);
      for (const b of batches.filter((b) => b[0]?.room === 'post:l'))
        expect(JSON.stringify(b.map((e) => e.data)).length).toBeLessThanOrEqual(4096);
      expect(batches.flat().map((e) => e.id)).toEqual([...small, ...large].map(({ id }) => id));
      expect(batches.filter((b) => b[0]?.room === 'post:s').length).toBeGreaterThanOrEqual(10);
    } finally {
      await rt.close();
      await deleteKeys(rt.config.KEY_PREFIX);
    }
  });
});

describe('EventManager with Redis down', () => {
  it('answers unavailable within the enqueue timeout instead of hanging, and recovers when Redis is back', async () => {
    const server = await TestRedisServer.start();
    const rt = await openRuntime(testConfig({ REDIS_URL: server.url, ENQUEUE_TIMEOUT_MS: '500' }));
    try {
      await rt.events.emit('user_status_changed', { userId: 'u', status: 'online' });
      await server.stopProcess();
      const started = Date.now();
      const err = await rt.events
        .emit('user_status_changed', { userId: 'u', status: 'offline' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(5000); // bounded: far below any hang, far above the 500 ms timeout
      await server.startProcess();
      let ok: { id: string } | undefined;
      // Retried until the restarted Redis takes it (the client reconnects on its own).
      await until(
        async () => {
          ok = await rt.events
            .emit('user_status_changed', { userId: 'u', status: 'online' })
            .catch(() => undefined);
          return ok !== undefined;
        },
        10_000,
        'an emit after the restart',
      );
      expect(ok?.id).toEqual(expect.any(String));
    } finally {
      await rt.close();
      await server.close();
    }
  });
});
