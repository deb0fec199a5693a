import type { Socket } from 'socket.io-client';
import { Redis } from 'ioredis';
import type { EventMeta } from '../../src/catalog';
import { createClient, type SwitchboardClient } from '../../src/client';
import type { Gateway } from '../../src/gateway/server';
import { createKeys } from '../../src/redis/keys';
import { Stack, testConfig } from '../helpers/stack';
import { call, record, recordUntil, until } from '../helpers/wait';

type Order = { orderId: string; status: string };
type JoinAck = {
  ok: boolean;
  data: { room: string; offset: string; recovered?: number; rewound?: number; incomplete?: true };
};

const STATUSES = ['created', 'paid', 'preparing', 'shipped', 'delivered'] as const;

/**
 * Initial state without races: every join acks the room's position (`offset`), `rewind: n` sends
 * the room's last n events first, `since: '0-0'` recovers a room from its start, and the HTTP API
 * answers a room's position for a backend to take before its snapshot. Real gateway, worker,
 * Redis and socket.io clients.
 */
describe('join position, rewind and GET /api/rooms/position', () => {
  const stack = new Stack(testConfig());
  let gw: Gateway;
  let redis: Redis;
  const clients: SwitchboardClient[] = [];

  beforeAll(async () => {
    gw = await stack.gateway();
    await stack.worker();
    redis = new Redis(stack.config.REDIS_URL);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    redis.disconnect();
    await stack.close();
  });

  const admin = async () => stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
  /** Publishes the statuses to `order:<id>` and resolves once `watcher` received them all. */
  const publish = async (orderId: string, statuses: readonly string[], watcher: Socket) => {
    const got = record<Order, EventMeta>(watcher, 'order_status_changed');
    for (const status of statuses)
      await gw.runtime.events.emitToOrder('order_status_changed', orderId, {
        orderId,
        status: status as (typeof STATUSES)[number],
      });
    await until(() => got.length === statuses.length, 10_000, 'the watcher got them');
    return got.map(([, meta]) => meta);
  };

  it("acks '0-0' in a room without events, then the last event's offset", async () => {
    const watcher = await admin();
    const first = await call<JoinAck>(watcher, 'join_order', { orderId: 'p1' });
    expect(first).toEqual({ ok: true, data: { room: 'order:p1', offset: '0-0' } });
    const metas = await publish('p1', STATUSES.slice(0, 3), watcher);
    const other = await admin();
    const second = await call<JoinAck>(other, 'join_order', { orderId: 'p1' });
    expect(second.data).toEqual({ room: 'order:p1', offset: metas[2]!.offset });
  });

  it('rewind sends the last n events first, oldest first and flagged, then live ones; since wins', async () => {
    const watcher = await admin();
    await call(watcher, 'join_order', { orderId: 'p2' });
    const metas = await publish('p2', STATUSES, watcher);

    const late = await admin();
    const got = recordUntil<Order, EventMeta>(
      late,
      'order_status_changed',
      (d) => d.status === 'cancelled',
    );
    const ack = await call<JoinAck>(late, 'join_order', { orderId: 'p2', rewind: 3 });
    expect(ack.data).toEqual({ room: 'order:p2', offset: metas[4]!.offset, rewound: 3 });
    // Sent before the ack: the three, oldest first.
    expect(got.map(([d, m]) => [d.status, m.rewound, m.offset])).toEqual(
      metas.slice(2).map((m, i) => [STATUSES[2 + i], true, m.offset]),
    );
    await gw.runtime.events.emitToOrder('order_status_changed', 'p2', {
      orderId: 'p2',
      status: 'cancelled',
    });
    const [, live] = await got.barrier();
    expect(live.rewound).toBeUndefined();

    // With since, since wins: only what followed it, flagged recovered.
    const both = await admin();
    const replayed = record<Order, EventMeta>(both, 'order_status_changed');
    const sinceAck = await call<JoinAck>(both, 'join_order', {
      orderId: 'p2',
      since: metas[3]!.offset,
      rewind: 5,
    });
    expect(sinceAck.data).toMatchObject({ recovered: 2 });
    expect(sinceAck.data.rewound).toBeUndefined();
    expect(replayed.map(([d, m]) => [d.status, m.recovered, m.rewound])).toEqual([
      ['delivered', true, undefined],
      ['cancelled', true, undefined],
    ]);

    expect(await call(late, 'join_order', { orderId: 'p2', rewind: 101 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });

  it("since '0-0' recovers a room from its start, and is incomplete once the history dropped an entry", async () => {
    const watcher = await admin();
    expect((await call<JoinAck>(watcher, 'join_order', { orderId: 'p3' })).data.offset).toBe('0-0');
    await publish('p3', STATUSES.slice(0, 2), watcher);

    const back = await admin();
    const recovered = record<Order, EventMeta>(back, 'order_status_changed');
    const ack = await call<JoinAck>(back, 'join_order', { orderId: 'p3', since: '0-0' });
    expect(ack.data).toMatchObject({ recovered: 2 });
    expect(ack.data.incomplete).toBeUndefined();
    expect(recovered.map(([d]) => d.status)).toEqual(['created', 'paid']);

    // The history lost its oldest entry: from the start is no longer complete.
    await redis.xtrim(
      createKeys(stack.config.KEY_PREFIX).history('/orders', 'order:p3'),
      'MAXLEN',
      1,
    );
    const again = await admin();
    const incomplete = await call<JoinAck>(again, 'join_order', { orderId: 'p3', since: '0-0' });
    expect(incomplete.data).toMatchObject({ incomplete: true });
  });

  it("GET /api/rooms/position answers a room's position to the publish token only", async () => {
    const url = (query: string) => stack.url(gw, `/api/rooms/position?${query}`);
    const q = new URLSearchParams({ ns: '/orders', room: 'order:p4' }).toString();
    expect((await fetch(url(q))).status).toBe(401);
    const empty = await fetch(url(q), { headers: stack.apiHeaders() });
    expect([empty.status, await empty.json()]).toEqual([200, { offset: '0-0' }]);

    const watcher = await admin();
    await call(watcher, 'join_order', { orderId: 'p4' });
    const metas = await publish('p4', STATUSES.slice(0, 2), watcher);
    const now = await fetch(url(q), { headers: stack.apiHeaders() });
    expect(await now.json()).toEqual({ offset: metas[1]!.offset });

    const wrong = await fetch(
      url(new URLSearchParams({ ns: '/orders', room: 'post:1' }).toString()),
      { headers: stack.apiHeaders() },
    );
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: { code: 'invalid_target' } });
    const badNs = await fetch(url('ns=/nope&room=order:1'), { headers: stack.apiHeaders() });
    expect(await badNs.json()).toMatchObject({ error: { code: 'invalid_payload' } });
  });

  it('the client library joins from getState, rewinds, and reloads state when since cannot be served', async () => {
    const token = await stack.token('ops', ['admin']);
    const watcher = await admin();
    await call(watcher, 'join_order', { orderId: 'p5' });

    // A backend takes the position before its snapshot; two events follow before the page joins.
    const position = (
      (await (
        await fetch(stack.url(gw, '/api/rooms/position?ns=/orders&room=order:p5'), {
          headers: stack.apiHeaders(),
        })
      ).json()) as { offset: string }
    ).offset;
    await publish('p5', ['created', 'paid'], watcher);
    let asked = 0;
    const sb = createClient({ url: stack.url(gw, ''), token });
    clients.push(sb);
    const got: Array<[string, EventMeta]> = [];
    sb.on('/orders', 'order_status_changed', (d, m) => got.push([d.status, m]));
    const joined = await sb.join('/orders', 'order:p5', {
      getState: () => {
        asked++;
        return Promise.resolve(position);
      },
    });
    expect(joined).toMatchObject({ room: 'order:p5', recovered: 2 });
    expect(got.map(([s, m]) => [s, m.recovered])).toEqual([
      ['created', true],
      ['paid', true],
    ]);
    expect(asked).toBe(1);

    // rewind through the library.
    const rw = createClient({ url: stack.url(gw, ''), token });
    clients.push(rw);
    const rewound: string[] = [];
    rw.on('/orders', 'order_status_changed', (d, m) => {
      if (m.rewound) rewound.push(d.status);
    });
    expect(await rw.join('/orders', 'order:p5', { rewind: 1 })).toMatchObject({ rewound: 1 });
    expect(rewound).toEqual(['paid']);

    // A position the history no longer covers: getState is asked again and the join goes on from it.
    const incomplete: string[] = [];
    const states = ['1-0', position];
    const reloaded = createClient({
      url: stack.url(gw, ''),
      token,
      onRecoveryIncomplete: (room) => incomplete.push(room),
    });
    clients.push(reloaded);
    let calls = 0;
    const after: string[] = [];
    reloaded.on('/orders', 'order_status_changed', (d) => after.push(d.status));
    await reloaded.join('/orders', 'order:p5', {
      getState: () => Promise.resolve(states[Math.min(calls++, 1)]!),
    });
    await until(() => calls === 2 && after.length === 2, 10_000, 'getState asked again');
    expect(after).toEqual(['created', 'paid']);
    expect(incomplete).toEqual([]);
  });
});
