import { createServer } from 'node:http';
import { Server } from 'socket.io';
import {
  createClient,
  roomActions,
  SwitchboardError,
  type ClientOptions,
  type EventMeta,
  type SwitchboardClient,
} from '../../src/client';
import { RoomState } from '../../src/client/room-state';
import { recordOrderOwner } from '../../src/domain/orders';
import type { Gateway } from '../../src/gateway/server';
import { Stack, testConfig } from '../helpers/stack';
import { until } from '../helpers/wait';
import { TcpProxy } from './tcp-proxy';

/** Quick reconnects, so the tests wait on events for little time. */
const FAST: ClientOptions['socket'] = {
  reconnectionDelay: 100,
  reconnectionDelayMax: 300,
  randomizationFactor: 0,
};

describe('client library: rooms, dedupe bound', () => {
  it('maps rooms to their namespace join/leave actions', () => {
    expect(roomActions('/orders', 'order:42')).toEqual({
      join: 'join_order',
      leave: 'leave_order',
      payload: { orderId: '42' },
      recoverable: true,
    });
    expect(roomActions('/social', 'post:a:b')).toMatchObject({
      join: 'join_post',
      payload: { postId: 'a:b' },
    });
    expect(roomActions('/chat', 'chat:7')).toMatchObject({
      join: 'join_chat',
      leave: 'leave_chat',
      payload: { chatId: '7' },
    });
    expect(roomActions('/notification', 'user:9')).toMatchObject({
      join: 'join_user',
      payload: { userId: '9' },
    });
    expect(roomActions('/notification', 'presence')).toEqual({
      join: 'join_presence',
      leave: 'leave_presence',
      payload: {},
      recoverable: false,
    });
    // toThrow takes an asymmetric matcher; @types/jest types its argument narrower (`as Error`).
    for (const [ns, room] of [
      ['/orders', 'post:1'],
      ['/orders', 'order:'],
      ['/orders', 'order'],
      ['/nope', 'order:1'],
      ['/notification', 'presence:1'],
    ]) {
      expect(() => roomActions(ns!, room!)).toThrow(
        expect.objectContaining({ code: 'invalid_argument' }) as Error,
      );
    }
  });

  it('remembers at most N ids per room; repeats by id or by offset are dropped', () => {
    const room = new RoomState('order:1', 3);
    for (const id of ['a', 'b', 'c', 'd']) expect(room.admit({ id })).toBe(true);
    expect(room.remembered).toBe(3);
    expect(room.admit({ id: 'd' })).toBe(false);
    expect(room.admit({ id: 'a' })).toBe(true); // evicted: without an offset only the window protects
    // With offsets, anything at or before the last delivered offset is a repeat, however old.
    expect(room.admit({ id: 'e', offset: '100-0' })).toBe(true);
    expect(room.admit({ id: 'f', offset: '100-1' })).toBe(true);
    expect(room.admit({ id: 'old', offset: '99-5' })).toBe(false);
    expect(room.admit({ id: 'f', offset: '100-1' })).toBe(false);
    expect(room.admit({ id: 'g', offset: '101-0' })).toBe(true);
    expect(room.lastOffset).toBe('101-0');
    expect(room.remembered).toBe(3);
  });
});

describe('client library against a gateway', () => {
  // A short history (trimmed in stream nodes of 100), so a long gap falls off it.
  const stack = new Stack(testConfig({ HISTORY_MAX_LEN: '150' }));
  const clients: SwitchboardClient[] = [];
  const proxies: TcpProxy[] = [];
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
    await stack.worker();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const p of proxies) await p.close();
    await stack.close();
  });

  const client = (options: Omit<ClientOptions, 'url'> & { url?: ClientOptions['url'] }) => {
    const c = createClient({ url: `http://127.0.0.1:${gw.port}`, socket: FAST, ...options });
    clients.push(c);
    return c;
  };
  const send = (orderId: string, note: string) =>
    gw.runtime.events.emit('order_status_changed', { orderId, status: 'preparing', note });

  it('connects with a token, joins order:x, receives events with meta, leaves', async () => {
    await recordOrderOwner(gw.runtime, 'b1', 'alice');
    const sb = client({ token: () => stack.token('alice') });
    const got: Array<[unknown, EventMeta]> = [];
    sb.on('/orders', 'order_status_changed', (data, meta) => got.push([data, meta]));
    expect(await sb.join('/orders', 'order:b1')).toEqual({ room: 'order:b1', offset: '0-0' });
    expect(await sb.call('/orders', 'get_rooms')).toEqual(['order:b1']);

    const { id } = await send('b1', 'one');
    await until(() => got.length === 1, 5000, 'the event');
    expect(got[0]).toEqual([
      { orderId: 'b1', status: 'preparing', note: 'one' },
      {
        id,
        ts: expect.any(Number) as unknown,
        ns: '/orders',
        room: 'order:b1',
        offset: expect.stringMatching(/^\d+-\d+$/) as unknown,
      },
    ]);
    expect(sb.namespace('/orders').lastOffset('order:b1')).toBe(got[0]![1].offset);

    expect(await sb.leave('/orders', 'order:b1')).toEqual({ room: 'order:b1' });
    expect(await sb.call('/orders', 'get_rooms')).toEqual([]);
    expect(sb.namespace('/orders').joinedRooms()).toEqual([]);
    // Nothing of the room after the leave: an event to another joined room is the fence.
    await recordOrderOwner(gw.runtime, 'b2', 'alice');
    await sb.join('/orders', 'order:b2');
    await send('b1', 'after leave');
    const fence = await send('b2', 'fence');
    await until(() => got.some(([, m]) => m.id === fence.id), 5000, 'the fence event');
    expect(got.map(([, m]) => m.room)).toEqual(['order:b1', 'order:b2']);
    expect(sb.stats).toMatchObject({ delivered: 2, duplicates: 0, connects: 1 });
  });

  it('a join the gateway refuses rejects with { code: forbidden }; a room of another namespace with invalid_argument', async () => {
    await recordOrderOwner(gw.runtime, 'alices', 'alice');
    const errors: string[] = [];
    const sb = client({
      token: () => stack.token('bob'),
      onError: (_ns, err) => errors.push(err.message),
    });
    const refused = await sb.join('/orders', 'order:alices').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(SwitchboardError);
    expect(refused).toMatchObject({ code: 'forbidden', message: 'not allowed in order:alices' });
    expect(sb.namespace('/orders').joinedRooms()).toEqual([]); // not re-joined after reconnects
    // @ts-expect-error post rooms are not on /orders
    await expect(sb.join('/orders', 'post:1')).rejects.toMatchObject({ code: 'invalid_argument' });
    // The connection is fine: bob's own order can be joined.
    await recordOrderOwner(gw.runtime, 'bobs', 'bob');
    await expect(sb.join('/orders', 'order:bobs')).resolves.toEqual({
      room: 'order:bobs',
      offset: '0-0',
    });
    await expect(sb.call('/orders', 'ping')).resolves.toEqual({
      pong: expect.any(Number) as unknown,
    });
    expect(errors).toEqual([]);
  });

  it('asks the token function on every connect: a refused handshake is retried with a fresh token', async () => {
    const errors: string[] = [];
    let calls = 0;
    const sb = client({
      token: async () => (++calls === 1 ? 'not-a-jwt' : stack.token('carol')),
      onError: (_ns, err) => errors.push(err.message),
    });
    await expect(sb.call('/notification', 'get_rooms')).resolves.toEqual(['user:carol']);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
  });

  it('joins past the per-socket rate limit are retried after retryAfterMs, not rejected', async () => {
    // 40 joins at once: more than RATE_SOCKET_BURST (30), as a re-join of many rooms after a reconnect would be.
    const sb = client({ token: () => stack.token('ops', ['admin']) });
    const rooms = Array.from({ length: 40 }, (_, i) => `order:many${i}` as const);
    const acks = await Promise.all(rooms.map((room) => sb.join('/orders', room)));
    expect(acks.map((a) => a.room)).toEqual(rooms);
    expect((await sb.call('/orders', 'get_rooms')).sort()).toEqual([...rooms].sort());
  });

  it('a gap older than the history reaches onRecoveryIncomplete, and live events follow', async () => {
    const proxy = await TcpProxy.start(gw.port);
    proxies.push(proxy);
    const incomplete: Array<[string, string]> = [];
    let disconnected!: () => void;
    const lost = new Promise<void>((resolve) => (disconnected = resolve));
    const sb = client({
      url: proxy.url,
      token: () => stack.token('ops', ['admin']),
      onDisconnect: () => disconnected(),
      onRecoveryIncomplete: (room, reason) => incomplete.push([room, reason]),
    });
    const seen: string[] = [];
    sb.on('/orders', 'order_status_changed', (data) => seen.push(data.note ?? ''));
    await sb.join('/orders', 'order:gap');
    await send('gap', '0');
    await until(() => seen.length === 1, 5000, 'event 0');

    proxy.cut();
    await lost;
    // HISTORY_MAX_LEN 150: 300 more events trim the oldest stream node, event 0's offset with it.
    let last = '';
    for (let n = 1; n <= 300; n++) last = (await send('gap', String(n))).id;
    const key = gw.runtime.keys.history('/orders', 'order:gap');
    await until(
      async () => (await gw.runtime.redis.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[1][1] === last,
      10_000,
      'history written',
    );
    proxy.restore();

    await until(() => incomplete.length > 0, 10_000, 'onRecoveryIncomplete');
    expect(incomplete).toEqual([
      ['order:gap', 'the history no longer reaches back to this offset'],
    ]);
    expect(seen).toEqual(['0']); // nothing replayed: the application refetches instead
    await send('gap', 'live');
    await until(() => seen.includes('live'), 5000, 'a live event after the re-join');
    expect(seen).toEqual(['0', 'live']);
  });

  it("a room joined before any event recovers from its '0-0' position after a reconnect: what was sent meanwhile is replayed", async () => {
    const proxy = await TcpProxy.start(gw.port);
    proxies.push(proxy);
    const incomplete: Array<[string, string]> = [];
    let connects = 0;
    const sb = client({
      url: proxy.url,
      token: () => stack.token('ops', ['admin']),
      onConnect: () => connects++,
      onRecoveryIncomplete: (room, reason) => incomplete.push([room, reason]),
    });
    const got: Array<[string | undefined, boolean]> = [];
    sb.on('/orders', 'order_status_changed', (data, meta) =>
      got.push([data.note, meta.recovered === true]),
    );
    expect(await sb.join('/orders', 'order:quiet')).toEqual({ room: 'order:quiet', offset: '0-0' });
    proxy.cut();
    // Sent while the client is away, and in the history before it comes back.
    await send('quiet', 'first');
    await send('quiet', 'second');
    const key = gw.runtime.keys.history('/orders', 'order:quiet');
    await until(async () => (await gw.runtime.redis.xlen(key)) === 2, 10_000, 'history written');
    proxy.restore();
    await until(() => connects === 2 && got.length === 2, 10_000, 'the reconnect and its replay');
    expect(got).toEqual([
      ['first', true],
      ['second', true],
    ]);
    expect(incomplete).toEqual([]);
  });
});

describe('client library against a scripted socket.io server', () => {
  // A bare socket.io server plays the gateway, to send exactly the repeats and disconnects wanted.
  async function server() {
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'] });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return {
      io,
      url: `http://127.0.0.1:${(http.address() as { port: number }).port}`,
      close: () => io.close(),
    };
  }
  const meta = (id: string, offset: string, recovered?: true) => ({
    id,
    ts: 1,
    ns: '/orders',
    room: 'order:s',
    offset,
    ...(recovered ? { recovered } : {}),
  });

  it('re-joins with since = the last offset after a reconnect; repeats (replay overlapping live) reach the application once', async () => {
    const srv = await server();
    const joins: unknown[] = [];
    let connections = 0;
    srv.io.of('/orders').on('connection', (socket) => {
      const n = ++connections;
      socket.on('join_order', (payload: unknown, ack: (res: unknown) => void) => {
        joins.push(payload);
        if (n === 1) {
          socket.emit('order_status_changed', { orderId: 's', status: 'paid' }, meta('e1', '1-0'));
          socket.emit('order_status_changed', { orderId: 's', status: 'paid' }, meta('e2', '2-0'));
          socket.emit('order_status_changed', { orderId: 's', status: 'paid' }, meta('e2', '2-0')); // at-least-once
          ack({ ok: true, data: { room: 'order:s' } });
          setTimeout(() => socket.conn.close(), 50); // the connection drops
        } else {
          // A replay that starts with an event already delivered (the offset guard drops it), then a
          // live event the gateway also held during the replay (the id check drops it).
          socket.emit(
            'order_status_changed',
            { orderId: 's', status: 'paid' },
            meta('e2', '2-0', true),
          );
          socket.emit(
            'order_status_changed',
            { orderId: 's', status: 'paid' },
            meta('e3', '3-0', true),
          );
          ack({ ok: true, data: { room: 'order:s', recovered: 2 } });
          socket.emit('order_status_changed', { orderId: 's', status: 'paid' }, meta('e3', '3-0'));
          socket.emit('order_status_changed', { orderId: 's', status: 'paid' }, meta('e4', '4-0'));
        }
      });
    });
    const sb = createClient({ url: srv.url, token: 'static-token', socket: FAST });
    const seen: Array<[string, boolean]> = [];
    sb.on('/orders', 'order_status_changed', (_data, m) => seen.push([m.id, m.recovered === true]));
    try {
      await sb.join('/orders', 'order:s');
      await until(() => seen.length === 4, 10_000, 'e4');
      expect(joins).toEqual([{ orderId: 's' }, { orderId: 's', since: '2-0' }]);
      expect(seen).toEqual([
        ['e1', false],
        ['e2', false],
        ['e3', true],
        ['e4', false],
      ]);
      expect(sb.stats).toEqual({ delivered: 4, duplicates: 3, connects: 2, refreshes: 0 });
    } finally {
      sb.close();
      void srv.close();
    }
  });

  it('onSlowConsumer fires for a close with code 4008 and after disconnect_reason { reason: slow_consumer }; the client reconnects', async () => {
    const { io, url, close } = await server();
    let connections = 0;
    io.of('/orders').on('connection', (socket) => {
      connections++;
      if (connections === 1) {
        // As src/gateway/outbound-cap.ts does: close the websocket with 4008 slow_consumer.
        (
          socket.conn.transport as unknown as {
            socket: { close(code: number, reason: string): void };
          }
        ).socket.close(4008, 'slow_consumer');
      } else if (connections === 2) {
        socket.emit('disconnect_reason', { reason: 'slow_consumer', message: 'not reading' });
        socket.disconnect(true);
      }
    });
    const slow: string[] = [];
    const disconnects: Array<[string, unknown]> = [];
    const sb = createClient({
      url,
      namespaces: ['/orders'],
      socket: FAST,
      onSlowConsumer: (ns) => slow.push(ns),
      onDisconnect: (_ns, reason, _details, server) => disconnects.push([reason, server]),
    });
    try {
      await until(
        () => connections === 3 && sb.namespace('/orders').connected,
        10_000,
        'the third connection',
      );
      expect(slow).toEqual(['/orders', '/orders']);
      expect(disconnects).toEqual([
        ['transport close', undefined],
        ['io server disconnect', { reason: 'slow_consumer', message: 'not reading' }],
      ]);
    } finally {
      sb.close();
      void close();
    }
  });
});
