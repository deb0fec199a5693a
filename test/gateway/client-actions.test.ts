import type { Socket } from 'socket.io-client';
import { Stack } from '../helpers/stack';
import { call, nextEvent, recordUntil } from '../helpers/wait';

/** An action's ack; `D`: what a test reads from `data`. */
type Ack<D = unknown> = {
  ok: boolean;
  data: D;
  error?: { code: string; message: string; issues?: unknown[] };
};

describe('client actions on every namespace', () => {
  const stack = new Stack();
  let gw: Awaited<ReturnType<Stack['gateway']>>;
  beforeAll(async () => {
    gw = await stack.gateway();
    await stack.worker();
  });
  afterAll(() => stack.close());

  const joins: Array<[string, string, string, string]> = [
    ['/social', 'join_post', 'leave_post', 'postId'],
    ['/chat', 'join_chat', 'leave_chat', 'chatId'],
    ['/orders', 'join_order', 'leave_order', 'orderId'],
  ];

  it.each(joins)(
    '%s %s / %s: ack with the room, get_rooms reflects it, bad payloads get invalid_payload',
    async (ns, join, leave, param) => {
      // An admin may join any room of the namespace (authorization has its own tests).
      const s = await stack.client(gw, ns, await stack.auth('ops', ['admin']));
      const prefix = param.replace('Id', '');
      // /notification sockets start in their own user room.
      const { data: initial } = await call<Ack<string[]>>(s, 'get_rooms');
      const joined = await call<Ack>(s, join, { [param]: 'a1' });
      // A room without events acks the position '0-0'.
      expect(joined).toEqual({ ok: true, data: { room: `${prefix}:a1`, offset: '0-0' } });
      expect(await call<Ack>(s, 'get_rooms')).toEqual({
        ok: true,
        data: [...initial, `${prefix}:a1`],
      });

      for (const bad of [
        {},
        { [param]: '' },
        { [param]: 'has space' },
        { [param]: { nested: 1 } },
        'string',
        42,
        null,
        [1, 2],
      ]) {
        const res = await call<Ack>(s, join, bad);
        expect(res.ok).toBe(false);
        expect(res.error?.code).toBe('invalid_payload');
        expect(typeof res.error?.message).toBe('string');
      }
      // A numeric id is accepted and becomes a string room name.
      expect(await call<Ack>(s, join, { [param]: 7 })).toEqual({
        ok: true,
        data: { room: `${prefix}:7`, offset: '0-0' },
      });

      expect(await call<Ack>(s, leave, { [param]: 'a1' })).toEqual({
        ok: true,
        data: { room: `${prefix}:a1` },
      });
      expect(await call<Ack>(s, 'get_rooms')).toEqual({
        ok: true,
        data: [...initial, `${prefix}:7`],
      });
      expect(s.connected).toBe(true);
    },
  );

  it('/notification join_user / leave_user: only the own user room; bad payloads get invalid_payload', async () => {
    const s = await stack.client(gw, '/notification', await stack.auth('a1'));
    expect(await call<Ack>(s, 'get_rooms')).toEqual({ ok: true, data: ['user:a1'] });
    expect(await call<Ack>(s, 'leave_user', { userId: 'a1' })).toEqual({
      ok: true,
      data: { room: 'user:a1' },
    });
    expect(await call<Ack>(s, 'get_rooms')).toEqual({ ok: true, data: [] });
    expect(await call<Ack>(s, 'join_user', { userId: 'a1' })).toEqual({
      ok: true,
      data: { room: 'user:a1', offset: '0-0' },
    });
    expect(await call<Ack>(s, 'get_rooms')).toEqual({ ok: true, data: ['user:a1'] });
    for (const bad of [{}, { userId: '' }, { userId: 'has space' }, 'string', null]) {
      expect((await call<Ack>(s, 'join_user', bad)).error?.code).toBe('invalid_payload');
    }
    expect((await call<Ack>(s, 'join_user', { userId: 7 })).error?.code).toBe('forbidden');
    expect(s.connected).toBe(true);
  });

  it.each(['/social', '/chat', '/orders', '/notification'])(
    '%s ping answers with the server time',
    async (ns) => {
      const s = await stack.client(gw, ns);
      const before = Date.now();
      const res = await call<Ack<{ pong: number }>>(s, 'ping');
      expect(res.ok).toBe(true);
      expect(res.data.pong).toBeGreaterThanOrEqual(before - 1000);
      expect(res.data.pong).toBeLessThanOrEqual(Date.now() + 1000);
    },
  );

  it('an unknown action with an ack gets unknown_action; no ack callback never breaks the connection', async () => {
    const s = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    const res = await call<Ack>(s, 'join_post', { postId: '1' });
    expect(res).toMatchObject({ ok: false, error: { code: 'unknown_action' } });
    // Fire-and-forget calls without an ack, valid and invalid: the socket must stay usable.
    s.emit('join_order', { orderId: 'x1' });
    s.emit('join_order', { orderId: { evil: true } });
    s.emit('join_order');
    s.emit('ping');
    expect(await call<Ack>(s, 'get_rooms')).toEqual({ ok: true, data: ['order:x1'] });
  });

  describe.each([
    ['/social', 'join_post', 'postId'],
    ['/chat', 'join_chat', 'chatId'],
  ])('%s typing', (ns, join, param) => {
    it('relays typing to others in the room, not the sender; requires joining first', async () => {
      const a = await stack.client(gw, ns);
      const b = await stack.client(gw, ns);
      const outsider = await stack.client(gw, ns);
      await call(a, join, { [param]: 't1' });
      await call(b, join, { [param]: 't1' });
      // The barrier below: typing of another user, relayed the same way once the checks are done.
      const barrierSender = await stack.client(gw, ns, await stack.auth('barrier-typist'));
      await call(barrierSender, join, { [param]: 't1' });
      const isBarrier = (data: { userId?: string }) => data.userId === 'barrier-typist';
      const selfEcho = recordUntil(a, 'typing', isBarrier);
      const outsiderSeen = recordUntil(outsider, 'typing', isBarrier);

      const got = nextEvent(b, 'typing');
      expect(await call<Ack>(a, 'typing_start', { [param]: 't1' })).toMatchObject({
        ok: true,
        data: { typing: true },
      });
      expect((await got)[0]).toEqual({ [param]: 't1', typing: true, userId: 'test-user' });

      const stopped = nextEvent(b, 'typing');
      await call(a, 'typing_stop', { [param]: 't1' });
      expect((await stopped)[0]).toEqual({ [param]: 't1', typing: false, userId: 'test-user' });

      const refused = await call<Ack>(outsider, 'typing_start', { [param]: 't1' });
      expect(refused).toMatchObject({ ok: false, error: { code: 'not_joined' } });
      expect((await call<Ack>(a, 'typing_start', {})).error?.code).toBe('invalid_payload');
      // A barrier: once the outsider has joined, another user's typing reaches a and the outsider;
      // an echo to a or a relay to the outsider sent before it would have arrived first.
      await call(outsider, join, { [param]: 't1' });
      await call(barrierSender, 'typing_start', { [param]: 't1' });
      await Promise.all([selfEcho.barrier(), outsiderSeen.barrier()]);
      expect(selfEcho).toHaveLength(0);
      expect(outsiderSeen).toHaveLength(0);
    });
  });

  describe('/chat new_message', () => {
    let a: Socket;
    let b: Socket;
    beforeAll(async () => {
      a = await stack.client(gw, '/chat');
      b = await stack.client(gw, '/chat');
      await call(a, 'join_chat', { chatId: 'c1' });
      await call(b, 'join_chat', { chatId: 'c1' });
    });

    it('acks the stored message and broadcasts it to the room with a meta id', async () => {
      const got = nextEvent(b, 'new_message');
      const res = await call<Ack<{ messageId: string; sentAt: number; eventId: string }>>(
        a,
        'new_message',
        { chatId: 'c1', content: 'hello' },
      );
      expect(res.ok).toBe(true);
      expect(res.data).toMatchObject({ chatId: 'c1', content: 'hello', userId: 'test-user' });
      expect(typeof res.data.messageId).toBe('string');
      expect(typeof res.data.sentAt).toBe('number');
      const [data, meta] = await got;
      expect(data).toEqual({
        chatId: 'c1',
        messageId: res.data.messageId,
        userId: 'test-user',
        content: 'hello',
        sentAt: res.data.sentAt,
      });
      expect(meta).toMatchObject({ id: res.data.eventId, ns: '/chat', room: 'chat:c1' });
    });

    it('refuses empty, oversized or non-member messages without enqueueing', async () => {
      const before = await gw.runtime.events.queue.getJobCounts(
        'wait',
        'active',
        'delayed',
        'completed',
        'failed',
      );
      const outsider = await stack.client(gw, '/chat');
      expect((await call<Ack>(a, 'new_message', { chatId: 'c1', content: '' })).error?.code).toBe(
        'invalid_payload',
      );
      expect(
        (await call<Ack>(a, 'new_message', { chatId: 'c1', content: 'x'.repeat(4001) })).error
          ?.code,
      ).toBe('invalid_payload');
      expect((await call<Ack>(a, 'new_message', { chatId: 'c1' })).error?.code).toBe(
        'invalid_payload',
      );
      expect(
        (await call<Ack>(outsider, 'new_message', { chatId: 'c1', content: 'hi' })).error?.code,
      ).toBe('not_joined');
      const after = await gw.runtime.events.queue.getJobCounts(
        'wait',
        'active',
        'delayed',
        'completed',
        'failed',
      );
      expect(after).toEqual(before);
    });
  });
});
