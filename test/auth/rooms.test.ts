import type { Socket } from 'socket.io-client';
import type { Gateway } from '../../src/gateway/server';
import { Stack } from '../helpers/stack';
import { call, nextEvent, recordUntil } from '../helpers/wait';

const forbidden = { ok: false, error: expect.objectContaining({ code: 'forbidden' }) as unknown };
const rooms = async (socket: Socket) =>
  ((await call<{ data?: string[] }>(socket, 'get_rooms')).data ?? []).sort();

describe('room authorization', () => {
  const stack = new Stack();
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
    await stack.worker();
    expect((await stack.post(gw, '/api/orders', { orderId: 'o2', userId: '2' })).status).toBe(202);
  });
  afterAll(() => stack.close());

  it('keeps user 1 out of user:2 and of an order of user 2; nothing is joined', async () => {
    const one = await stack.client(gw, '/notification', await stack.auth('1'));
    expect(await call(one, 'join_user', { userId: '2' })).toEqual(forbidden);
    expect(await call(one, 'join_user', { userId: '1' })).toEqual({
      ok: true,
      data: { room: 'user:1', offset: '0-0' },
    });
    const oneOrders = await stack.client(gw, '/orders', await stack.auth('1'));
    expect(await call(oneOrders, 'join_order', { orderId: 'o2' })).toEqual(forbidden);
    expect(await call(oneOrders, 'join_order', { orderId: 'unknown-order' })).toEqual(forbidden);
    expect(await rooms(oneOrders)).toEqual([]);
    expect(await call(oneOrders, 'join_admin')).toMatchObject({
      ok: false,
      error: { code: 'unknown_action' },
    });
  });

  it('lets the owner and an admin into the order room, and they receive its events', async () => {
    const owner = await stack.client(gw, '/orders', await stack.auth('2'));
    const admin = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    const stranger = await stack.client(gw, '/orders', await stack.auth('1'));
    expect(await call(owner, 'join_order', { orderId: 'o2' })).toEqual({
      ok: true,
      // The order's `created` event is in its history already.
      data: { room: 'order:o2', offset: expect.stringMatching(/^\d+-\d+$/) as unknown },
    });
    expect(await call(admin, 'join_order', { orderId: 'o2' })).toEqual({
      ok: true,
      // The order's `created` event is in its history already.
      data: { room: 'order:o2', offset: expect.stringMatching(/^\d+-\d+$/) as unknown },
    });
    await call(stranger, 'join_order', { orderId: 'o2' });
    // The barrier below: an event of an order of the stranger's own, through the same queue and worker.
    expect(
      (await stack.post(gw, '/api/orders', { orderId: 'o1-stranger', userId: '1' })).status,
    ).toBe(202);
    expect(await call(stranger, 'join_order', { orderId: 'o1-stranger' })).toEqual({
      ok: true,
      data: { room: 'order:o1-stranger', offset: expect.stringMatching(/^\d+-\d+$/) as unknown },
    });
    const strays = recordUntil<{ orderId: string }>(
      stranger,
      'order_status_changed',
      (data) => data.orderId === 'o1-stranger',
    );
    const toOwner = nextEvent(owner, 'order_status_changed');
    const toAdmin = nextEvent(admin, 'order_status_changed');
    expect((await stack.post(gw, '/api/orders/o2/status', { status: 'paid' })).status).toBe(202);
    expect((await toOwner)[0]).toEqual({ orderId: 'o2', status: 'paid' });
    expect((await toAdmin)[0]).toEqual({ orderId: 'o2', status: 'paid' });
    expect(
      (await stack.post(gw, '/api/orders/o1-stranger/status', { status: 'paid' })).status,
    ).toBe(202);
    await strays.barrier(); // o2's event, had it gone to the stranger, would have arrived before this one
    expect(strays).toHaveLength(0);
  });

  it('records ownership when a status is set, and refuses a second owner', async () => {
    expect(
      (await stack.post(gw, '/api/orders/o3/status', { status: 'created', userId: '3' })).status,
    ).toBe(202);
    const res = await stack.post(gw, '/api/orders', { orderId: 'o3', userId: '4' });
    expect(res.status).toBe(409);
    const three = await stack.client(gw, '/orders', await stack.auth('3'));
    expect(await call(three, 'join_order', { orderId: 'o3' })).toEqual({
      ok: true,
      data: { room: 'order:o3', offset: expect.stringMatching(/^\d+-\d+$/) as unknown },
    });
  });

  it('admits only admins to the admin room and any signed-in user to presence and posts', async () => {
    const user = await stack.client(gw, '/notification', await stack.auth('5'));
    const admin = await stack.client(gw, '/notification', await stack.auth('ops', ['admin']));
    expect(await call(user, 'get_presence', { room: 'admin' })).toEqual(forbidden);
    expect(await call(admin, 'get_presence', { room: 'admin' })).toEqual({
      ok: true,
      data: { room: 'admin', users: [] },
    });
    expect(await call(user, 'join_presence')).toEqual({
      ok: true,
      data: { room: 'presence', offset: '0-0' },
    });
    const social = await stack.client(gw, '/social', await stack.auth('5'));
    expect(await call(social, 'join_post', { postId: '9' })).toEqual({
      ok: true,
      data: { room: 'post:9', offset: '0-0' },
    });
  });

  it('enforces chat membership once a chat has members', async () => {
    const member = await stack.client(gw, '/chat', await stack.auth('m1'));
    const outsider = await stack.client(gw, '/chat', await stack.auth('x1'));
    expect(await call(outsider, 'join_chat', { chatId: 'open' })).toEqual({
      ok: true,
      data: { room: 'chat:open', offset: '0-0' },
    });
    expect(
      (await stack.post(gw, '/api/chats/c1/members', { userIds: ['m1', 'm2'] }, 'PUT')).status,
    ).toBe(200);
    expect(await call(member, 'join_chat', { chatId: 'c1' })).toEqual({
      ok: true,
      data: { room: 'chat:c1', offset: '0-0' },
    });
    expect(await call(outsider, 'join_chat', { chatId: 'c1' })).toEqual(forbidden);
    expect(await call(outsider, 'new_message', { chatId: 'c1', content: 'hi' })).toMatchObject({
      ok: false,
      error: { code: 'not_joined' },
    });
  });
});

describe('per-user delivery', () => {
  const stack = new Stack();
  afterAll(() => stack.close());

  it('emitToUser reaches every socket of that user on every gateway, and nobody else', async () => {
    const [a, b] = [await stack.gateway(), await stack.gateway()];
    await stack.worker();
    const onA = await stack.client(a, '/notification', await stack.auth('42'));
    const onB = await stack.client(b, '/notification', await stack.auth('42'));
    const secondOnB = await stack.client(b, '/notification', await stack.auth('42'));
    const other = await stack.client(a, '/notification', await stack.auth('43'));
    const strays = recordUntil<{ items: Array<{ title: string }> }>(other, 'notification', (data) =>
      data.items.some((i) => i.title === 'barrier'),
    );
    const got = [onA, onB, secondOnB].map((s) => nextEvent(s, 'notification'));
    const { id } = await a.runtime.events.emitToUser('notification', '42', {
      title: 'Hi',
      body: 'there',
    });
    for (const [data, meta] of await Promise.all(got)) {
      expect(data).toEqual({ items: [{ title: 'Hi', body: 'there', kind: 'info' }] }); // notification is a batch event
      expect(meta).toMatchObject({ id, room: 'user:42' });
    }
    // A barrier: a notification of user 43's own, in a window opened after 42's went out; had 42's
    // reached the other user, it would have arrived before this one.
    await a.runtime.events.emitToUser('notification', '43', { title: 'barrier', body: 'b' });
    await strays.barrier();
    expect(strays).toHaveLength(0);
  });
});
