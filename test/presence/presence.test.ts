import type { Socket } from 'socket.io-client';
import type { Gateway } from '../../src/gateway/server';
import { Stack } from '../helpers/stack';
import { call, recordItems, until } from '../helpers/wait';

type Status = { userId: string; status: 'online' | 'offline' };

const presenceOf = async (socket: Socket, room: string) =>
  (await call<{ ok: boolean; data: { users: string[] } }>(socket, 'get_presence', { room })).data
    .users;
const onlineOf = async (socket: Socket) =>
  (await call<{ data: { users: string[] } }>(socket, 'get_online')).data.users;

describe('presence across two gateways', () => {
  const stack = new Stack();
  let a: Gateway;
  let b: Gateway;
  let watcher: Socket;
  let changes: Array<[Status, unknown]>;
  beforeAll(async () => {
    [a, b] = [await stack.gateway(), await stack.gateway()];
    await stack.worker();
    watcher = await stack.client(b, '/notification', await stack.auth('watcher'));
    expect(await call(watcher, 'join_presence')).toMatchObject({ ok: true });
    changes = recordItems<Status>(watcher, 'user_status_changed');
  });
  afterAll(() => stack.close());

  const statusesOf = (userId: string) =>
    changes.filter(([d]) => d.userId === userId).map(([d]) => d.status);
  /**
   * A barrier: a new user comes online on `gw`, and the watcher sees it; a transition published
   * before it (a stray one included) has been delivered by then.
   */
  const barrier = async (gw: Gateway, userId: string) => {
    await stack.client(gw, '/social', await stack.auth(userId));
    await until(() => statusesOf(userId).join() === 'online', 5000, `${userId} online`);
  };

  it('lists who is in a room and who is online, whichever gateway they are on', async () => {
    const u1 = await stack.client(a, '/social', await stack.auth('u1'));
    const u2 = await stack.client(b, '/social', await stack.auth('u2'));
    const u2again = await stack.client(a, '/social', await stack.auth('u2'));
    for (const s of [u1, u2, u2again]) await call(s, 'join_post', { postId: 'room1' });
    expect(await presenceOf(u1, 'post:room1')).toEqual(['u1', 'u2']);
    expect(await presenceOf(u2, 'post:room1')).toEqual(['u1', 'u2']);
    expect(await onlineOf(watcher)).toEqual(['u1', 'u2', 'watcher']);

    // u2 leaves on one gateway but is still in the room through the other.
    await call(u2again, 'leave_post', { postId: 'room1' });
    expect(await presenceOf(u1, 'post:room1')).toEqual(['u1', 'u2']);
    u2.disconnect();
    await until(
      async () => (await presenceOf(u1, 'post:room1')).join() === 'u1',
      5000,
      'u2 to leave the room',
    );
    // u2 is still online (its socket on gateway a), u1 leaves by disconnecting.
    expect(await onlineOf(watcher)).toEqual(['u1', 'u2', 'watcher']);
    u1.disconnect();
    u2again.disconnect();
    await until(
      async () => (await onlineOf(watcher)).join() === 'watcher',
      5000,
      'u1 and u2 offline',
    );
    expect(await presenceOf(watcher, 'post:room1')).toEqual([]);
  });

  it('emits user_status_changed once per real transition, not per socket', async () => {
    const sawCarol = (...expected: string[]) =>
      until(
        () => statusesOf('carol').join() === expected.join(),
        5000,
        `carol: ${expected.join(', ')}`,
      );
    const s1 = await stack.client(a, '/chat', await stack.auth('carol'));
    await sawCarol('online');
    // More sockets on both gateways and namespaces, some of them closing: no new transition.
    const s2 = await stack.client(b, '/social', await stack.auth('carol'));
    const s3 = await stack.client(a, '/notification', await stack.auth('carol'));
    s1.disconnect();
    s3.disconnect();
    await until(async () => (await onlineOf(watcher)).includes('carol'), 5000, 'carol online');
    s2.disconnect();
    await sawCarol('online', 'offline');
    await stack.client(a, '/social', await stack.auth('carol'));
    await sawCarol('online', 'offline', 'online');
    await barrier(a, 'barrier-carol-a');
    await barrier(b, 'barrier-carol-b');
    expect(statusesOf('carol')).toEqual(['online', 'offline', 'online']);
  });

  it('a gateway closing takes its users offline, except those connected elsewhere', async () => {
    const c = await stack.gateway();
    await stack.client(c, '/social', await stack.auth('only-on-c'));
    await stack.client(c, '/social', await stack.auth('on-both'));
    await stack.client(a, '/social', await stack.auth('on-both'));
    await until(
      () => statusesOf('only-on-c').length === 1 && statusesOf('on-both').length === 1,
      5000,
      'online events',
    );
    await c.close();
    await until(() => statusesOf('only-on-c').length === 2, 5000, 'only-on-c offline');
    expect(await onlineOf(watcher)).toContain('on-both');
    await barrier(a, 'barrier-c-closed'); // c's transitions were all published when c.close() returned
    expect(statusesOf('on-both')).toEqual(['online']);
    expect(statusesOf('only-on-c')).toEqual(['online', 'offline']);
  });
});
