import { Redis } from 'ioredis';
import type { Gateway } from '../../src/gateway/server';
import { TestRedisServer } from '../helpers/redis-server';
import { Stack, testConfig } from '../helpers/stack';
import { call, until } from '../helpers/wait';

type Ack = { ok: boolean; data?: unknown; error?: { code: string; message: string } };

/** Per-socket state is bounded: a room limit, and nothing left behind by joins, leaves or a disconnect. */
describe('per-socket bounds', () => {
  // Rate limits far above what the test sends: it is about state, not about limits.
  const stack = new Stack(
    testConfig({
      MAX_ROOMS_PER_SOCKET: '3',
      RATE_SOCKET_BURST: '100000',
      RATE_SOCKET_PER_SEC: '100000',
      RATE_USER_BURST: '100000',
      RATE_USER_PER_SEC: '100000',
    }),
  );
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
  });
  afterAll(() => stack.close());

  it('a socket may be in MAX_ROOMS_PER_SOCKET rooms; one more is a typed too_many_rooms error', async () => {
    const s = await stack.client(gw, '/social');
    for (const postId of ['a', 'b', 'c'])
      expect((await call<Ack>(s, 'join_post', { postId })).ok).toBe(true);
    const refused = await call<Ack>(s, 'join_post', { postId: 'd' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'too_many_rooms' } });
    expect(refused.error?.message).toContain('MAX_ROOMS_PER_SOCKET');
    // Joining a room it is already in is not a new room.
    expect((await call<Ack>(s, 'join_post', { postId: 'a' })).ok).toBe(true);
    expect((await call<Ack>(s, 'leave_post', { postId: 'b' })).ok).toBe(true);
    expect((await call<Ack>(s, 'join_post', { postId: 'd' })).ok).toBe(true);
    // The user's own room (user_followed goes there), joined on connect, is not counted.
    expect(((await call<Ack>(s, 'get_rooms')).data as string[]).sort()).toEqual([
      'post:a',
      'post:c',
      'post:d',
      'user:test-user',
    ]);
  });

  it('10,000 joins and leaves leave no per-socket state behind, on the gateway or in Redis presence', async () => {
    const nsp = gw.io.of('/social');
    const s = await stack.client(gw, '/social', await stack.auth('churner'));
    const roomsBefore = nsp.adapter.rooms.size;
    // Sent without waiting for each ack: the socket's actions still run one at a time, in order.
    // Each ack may take a while on a loaded machine (10,000 presence scripts in a row): the test is
    // about what is left afterwards, so the acks get a long bound instead of call()'s 5 s.
    const slow = (event: string, payload: unknown) =>
      s.timeout(60_000).emitWithAck(event, payload) as Promise<Ack>;
    const acks: Array<Promise<Ack>> = [];
    for (let i = 0; i < 5000; i++) {
      acks.push(
        slow('join_post', { postId: `churn${i}` }),
        slow('leave_post', { postId: `churn${i}` }),
      );
    }
    const answers = await Promise.all(acks);
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect((await call<Ack>(s, 'get_rooms')).data as string[]).toEqual(['user:churner']);
    expect(nsp.adapter.rooms.size).toBe(roomsBefore);
    // Presence: no room entry left for this user in Redis once the updates have landed.
    const keys = gw.runtime.keys;
    const churnRooms = Array.from({ length: 5000 }, (_, i) =>
      keys.presenceRoom('social', `post:churn${i}`),
    );
    const left = async () =>
      (await Promise.all(churnRooms.map((k) => gw.runtime.redis.exists(k)))).reduce(
        (a, b) => a + b,
        0,
      );
    await until(async () => (await left()) === 0, 10_000, 'presence updates');
    const stray = await gw.runtime.redis.keys(`${keys.prefix}:presence:room:*post:churn*`);
    expect(stray).toEqual([]);

    const sid = s.id!;
    s.disconnect();
    await until(() => !nsp.sockets.has(sid), 5000, 'the socket gone');
    expect(nsp.adapter.rooms.has(sid)).toBe(false);
    expect(nsp.adapter.sids.has(sid)).toBe(false);
  }, 120_000);

  it('ping is answered while an earlier action of the same socket still waits on Redis', async () => {
    // A private Redis: pausing it must not stall the other test files sharing the machine's Redis.
    const server = await TestRedisServer.start();
    const own = new Stack(testConfig({ REDIS_URL: server.url }));
    try {
      const gw = await own.gateway();
      const s = await own.client(gw, '/orders', await own.auth('waiter'));
      // Redis holds every client's commands for 500 ms: the join's room check (a GET) waits on it.
      const blocker = new Redis(server.url);
      await blocker.client('PAUSE', 500, 'ALL');
      const order: string[] = [];
      const join = call<Ack>(s, 'join_order', { orderId: 'not-mine' }).then((a) =>
        order.push(`join:${a.error?.code ?? 'ok'}`),
      );
      const ping = call<Ack>(s, 'ping').then(() => order.push('ping'));
      await Promise.all([join, ping]);
      expect(order).toEqual(['ping', 'join:forbidden']);
      blocker.disconnect();
    } finally {
      await own.close();
      await server.close();
    }
  });
});
