import { io, type Socket } from 'socket.io-client';
import type { EventMeta } from '../../src/catalog';
import type { Gateway } from '../../src/gateway/server';
import { Stack, testConfig } from '../helpers/stack';
import { call, nextEvent, sleep, until } from '../helpers/wait';

type Ack = {
  ok: boolean;
  data?: { room: string; recovered?: number; incomplete?: true };
  error?: { code: string };
};
type Seen = Array<{ id: string; offset: string; recovered: boolean; n: number }>;

const cmpOffset = (a: string, b: string) => {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
};

/** Records order_status_changed with the `note` counter the test puts in each event. */
function recordOrders(socket: Socket): Seen {
  const seen: Seen = [];
  socket.on('order_status_changed', (data: { note?: string }, meta: EventMeta) =>
    seen.push({
      id: meta.id,
      offset: meta.offset ?? '',
      recovered: meta.recovered === true,
      n: Number(data.note),
    }),
  );
  return seen;
}

describe('recovery on re-join (history in Redis)', () => {
  // A short history, so a long gap falls off it (trimming works in whole stream nodes of 100).
  const stack = new Stack(testConfig({ HISTORY_MAX_LEN: '150' }));
  let admin: { token: string };
  let gw: Gateway;
  let other: Gateway;
  afterAll(() => stack.close());
  beforeAll(async () => {
    admin = await stack.auth('ops', ['admin']);
    gw = await stack.gateway();
    other = await stack.gateway();
    await stack.worker();
  });

  const send = (gw: Gateway, orderId: string, n: number) =>
    gw.runtime.events.emit('order_status_changed', {
      orderId,
      status: 'preparing',
      note: String(n),
    });

  it('a long-polling client re-joining with since while events keep coming gets the missed and the live ones, none held back', async () => {
    // Long-polling is not writable between its GETs: the replay's and the release's waits for the
    // transport must not take that for a client that does not read (they waited 10 s a page).
    const polling = io(`http://127.0.0.1:${gw.port}/orders`, {
      transports: ['polling'],
      reconnection: false,
      forceNew: true,
      auth: admin,
    });
    stack.sockets.push(polling);
    await new Promise<void>((resolve, reject) => {
      polling.once('connect', () => resolve());
      polling.once('connect_error', reject);
    });
    const seen = recordOrders(polling);
    await call(polling, 'join_order', { orderId: 'poll1' });
    await send(gw, 'poll1', 0);
    await until(() => seen.length === 1, 5000, 'the first event');
    const since = seen[0]!.offset;
    for (let n = 1; n <= 100; n++) await send(gw, 'poll1', n);
    // Live events go on while the re-join replays and releases what it held.
    const live = (async () => {
      for (let n = 101; n <= 200; n++) {
        await send(gw, 'poll1', n);
        await sleep(5);
      }
    })();
    const ack = await call<Ack>(polling, 'join_order', { orderId: 'poll1', since });
    expect(ack.ok).toBe(true);
    await live;
    await until(
      () => new Set(seen.map((s) => s.n)).size === 201,
      8000,
      'every event, missed and live, at the polling client',
    );
    expect([...new Set(seen.map((s) => s.n))].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 201 }, (_, i) => i),
    );
  });

  it('a client offline for 5 s while 100 events go to its room gets exactly those 100, in order, then live ones', async () => {
    const first = await stack.client(gw, '/orders', admin);
    await call(first, 'join_order', { orderId: 'r1' });
    const got = nextEvent<unknown, EventMeta>(first, 'order_status_changed');
    await send(gw, 'r1', 0);
    const [, lastMeta] = await got;
    expect(lastMeta.offset).toMatch(/^\d+-\d+$/);
    first.disconnect();
    const offlineSince = Date.now();

    // Offline for 5 s while the 100 events go out, spread over that time (the pace is the test's).
    for (let n = 1; n <= 100; n++) {
      await send(gw, 'r1', n);
      await sleep(45);
    }
    // Wait until the worker has emitted all 100 (they are in the history) before coming back.
    const historyKey = gw.runtime.keys.history('/orders', 'order:r1');
    await until(
      async () => (await gw.runtime.redis.xlen(historyKey)) === 101,
      10_000,
      `history (${await gw.runtime.redis.xlen(historyKey)})`,
    );

    // Timers may fire a millisecond early by Date.now(): wait until the clock says 5 s.
    while (Date.now() - offlineSince < 5000) await sleep(5000 - (Date.now() - offlineSince) + 1);
    expect(Date.now() - offlineSince).toBeGreaterThanOrEqual(5000);
    // Back on the other gateway: recovery does not depend on where the client was.
    const again = await stack.client(other, '/orders', admin);
    const seen = recordOrders(again);
    const ack = await call<Ack>(again, 'join_order', { orderId: 'r1', since: lastMeta.offset });
    expect(ack).toEqual({
      ok: true,
      data: { room: 'order:r1', offset: seen.at(-1)?.offset, recovered: 100 },
    });
    // Exactly the 100 missed, each once, replayed in room order (meta.offset ascending).
    expect(seen.map((e) => e.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    expect(new Set(seen.map((e) => e.id)).size).toBe(100);
    expect(seen.every((e) => e.recovered)).toBe(true);
    for (let i = 1; i < seen.length; i++)
      expect(cmpOffset(seen[i]!.offset, seen[i - 1]!.offset)).toBeGreaterThan(0);

    await send(gw, 'r1', 101);
    await until(() => seen.length === 101, 5000, 'live event');
    expect(seen[100]).toMatchObject({ n: 101, recovered: false });
    expect(cmpOffset(seen[100]!.offset, seen[99]!.offset)).toBeGreaterThan(0);
  });

  it('a gap older than the history gets recovery_incomplete, and the room is joined anyway', async () => {
    const s = await stack.client(gw, '/orders', admin);
    await call(s, 'join_order', { orderId: 'r2' });
    const firstSeen = nextEvent<unknown, EventMeta>(s, 'order_status_changed');
    await send(gw, 'r2', 0);
    const [, meta] = await firstSeen;
    s.disconnect();
    // HISTORY_MAX_LEN is 150: 300 more events trim the oldest node of the history, event 0 with it.
    let lastId = '';
    for (let n = 1; n <= 300; n++) lastId = (await send(gw, 'r2', n)).id;
    await until(
      async () => {
        const last = await gw.runtime.redis.xrevrange(
          gw.runtime.keys.history('/orders', 'order:r2'),
          '+',
          '-',
          'COUNT',
          1,
        );
        return last[0]?.[1][1] === lastId; // field `i`: the event id
      },
      10_000,
      'history written',
    );

    const again = await stack.client(gw, '/orders', admin);
    const incomplete = nextEvent<{ room: string }>(again, 'recovery_incomplete');
    const seen = recordOrders(again);
    expect(await call<Ack>(again, 'join_order', { orderId: 'r2', since: meta.offset })).toEqual({
      ok: true,
      data: {
        room: 'order:r2',
        offset: expect.stringMatching(/^\d+-\d+$/) as unknown,
        recovered: 0,
        incomplete: true,
      },
    });
    expect((await incomplete)[0]).toMatchObject({ room: 'order:r2' });
    expect(seen).toEqual([]);
    expect(await call(again, 'get_rooms')).toEqual({ ok: true, data: ['order:r2'] });

    // A room with no history at all (never kept, or expired) is incomplete too.
    const none = nextEvent<{ room: string }>(again, 'recovery_incomplete');
    expect(
      (await call<Ack>(again, 'join_order', { orderId: 'never', since: '1700000000000-0' })).data
        ?.incomplete,
    ).toBe(true);
    expect((await none)[0].room).toBe('order:never');
    expect(
      (await call<Ack>(again, 'join_order', { orderId: 'r2', since: 'yesterday' })).error?.code,
    ).toBe('invalid_payload');
  });

  it('a re-join whose history read fails is a failed join: the socket is not left in the room, where live events would move its position past the gap', async () => {
    const s = await stack.client(gw, '/orders', admin);
    // A real Redis error on the read: the room's history key holds a string (WRONGTYPE).
    const historyKey = gw.runtime.keys.history('/orders', 'order:r4');
    await gw.runtime.redis.set(historyKey, 'not a stream');
    const failed = await call<Ack>(s, 'join_order', { orderId: 'r4', since: '1700000000000-0' });
    expect(failed.ok).toBe(false);
    expect(await call<{ ok: boolean; data: string[] }>(s, 'get_rooms', {})).toEqual({
      ok: true,
      data: [],
    });
    // Once the read works, the same re-join succeeds.
    await gw.runtime.redis.del(historyKey);
    await call(s, 'join_order', { orderId: 'r4' });
    expect((await call<{ ok: boolean; data: string[] }>(s, 'get_rooms', {})).data).toEqual([
      'order:r4',
    ]);
  });

  it('events sent while a client re-joins arrive in room order, recovered ones before live ones', async () => {
    const s = await stack.client(gw, '/orders', admin);
    await call(s, 'join_order', { orderId: 'r3' });
    const firstSeen = nextEvent<unknown, EventMeta>(s, 'order_status_changed');
    await send(gw, 'r3', 0);
    const [, meta] = await firstSeen;
    s.disconnect();
    for (let n = 1; n <= 50; n++) await send(gw, 'r3', n);

    // Keep live traffic flowing while the client comes back.
    let n = 51;
    let sending = true;
    // A named function, not an IIFE: TypeScript would read `sending` as still `true` inside one.
    const sendLive = async () => {
      while (sending) await send(gw, 'r3', n++);
    };
    const live = sendLive();
    const again = await stack.client(gw, '/orders', admin);
    const seen = recordOrders(again);
    await call<Ack>(again, 'join_order', { orderId: 'r3', since: meta.offset });
    await until(
      () => seen.length > 0 && seen.some((e) => !e.recovered),
      5000,
      'live events after recovery',
    );
    sending = false;
    await live;
    await until(() => new Set(seen.map((e) => e.id)).size >= n - 1, 10_000, 'every event');

    // After de-duplication by meta.id: every event from 1 on, exactly once, in offset order.
    const unique = seen.filter((e, i) => seen.findIndex((x) => x.id === e.id) === i);
    expect(unique.map((e) => e.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: n - 1 }, (_, i) => i + 1),
    );
    for (let i = 1; i < unique.length; i++)
      expect(cmpOffset(unique[i]!.offset, unique[i - 1]!.offset)).toBeGreaterThan(0);
    // Nothing recovered arrives after a live event.
    const firstLive = seen.findIndex((e) => !e.recovered);
    expect(seen.slice(firstLive).some((e) => e.recovered)).toBe(false);
  });
});
