import { openRuntime, type Runtime } from '../../src/runtime';
import { GatewayError } from '../../src/errors';
import { prepareEnvelope } from '../../src/events/event-manager';
import { TestRedisServer } from '../helpers/redis-server';
import { deleteKeys } from '../helpers/redis';
import { testConfig } from '../helpers/stack';

describe('EventManager', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await openRuntime(testConfig());
  });
  afterAll(async () => {
    await rt.close();
    await deleteKeys(rt.config.KEY_PREFIX);
  });

  it('enqueues one job per event with job id = event id, namespace and room from the catalog', async () => {
    const { id } = await rt.events.emitToPost('post_commented', 'p1', { postId: 'p1', commentId: 'c1', userId: 'u1', text: 'hey' });
    const job = await rt.events.queue.getJob(id);
    expect(job?.id).toBe(id);
    expect(job?.data).toMatchObject({ v: 1, id, event: 'post_commented', ns: '/social', room: 'post:p1' });
  });

  it('takes room params from the target first, then from the payload', () => {
    const fromPayload = prepareEnvelope({ event: 'order_status_changed', data: { orderId: 'o1', status: 'paid' } });
    expect(fromPayload.room).toBe('order:o1');
    const fromTarget = prepareEnvelope({ event: 'notification', data: { title: 't', body: 'b' }, target: { userId: 42 } });
    expect(fromTarget.room).toBe('user:42');
    expect(fromTarget.data).toEqual({ title: 't', body: 'b', kind: 'info' });
  });

  it('gives ids that sort in creation order', () => {
    const ids = Array.from({ length: 2000 }, () => prepareEnvelope({ event: 'user_status_changed', data: { userId: 'u', status: 'online' } }).id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a burst of emits is accepted in few round trips and every job exists', async () => {
    const accepted = await Promise.all(
      Array.from({ length: 300 }, (_, i) => rt.events.emit('post_commented', { postId: 'p1', commentId: `m${i}`, userId: 'u1', text: 't' })),
    );
    const jobs = await Promise.all(accepted.map(({ id }) => rt.events.queue.getJob(id)));
    expect(jobs.map((j) => j?.data.data.commentId)).toEqual(accepted.map((_, i) => `m${i}`));
  });

  it.each([
    [{ event: 'nope', data: {} }, 'unknown_event'],
    [{ event: 42, data: {} }, 'unknown_event'],
    [{ event: 'post_liked', data: { postId: '1', userId: 'u' } }, 'invalid_payload'],
    [{ event: 'post_liked', data: null }, 'invalid_payload'],
    [{ event: 'notification', data: { title: 't', body: 'b' } }, 'invalid_target'],
    [{ event: 'notification', data: { title: 't', body: 'b' }, target: 'user:1' }, 'invalid_target'],
  ])('rejects %j with %s and enqueues nothing', async (input, code) => {
    const before = await rt.events.queue.getJobCounts();
    const err = await rt.events.publish(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe(code);
    expect(await rt.events.queue.getJobCounts()).toEqual(before);
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
      const err = await rt.events.emit('user_status_changed', { userId: 'u', status: 'offline' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(5000); // bounded: far below any hang, far above the 500 ms timeout
      await server.startProcess();
      let ok: { id: string } | undefined;
      for (let i = 0; i < 100 && !ok; i++) {
        ok = await rt.events.emit('user_status_changed', { userId: 'u', status: 'online' }).catch(() => undefined);
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok?.id).toEqual(expect.any(String));
    } finally {
      await rt.close();
      await server.close();
    }
  });
});
