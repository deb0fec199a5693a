import type { Socket } from 'socket.io-client';
import type { Gateway } from '../../src/gateway/server';
import { launch, type Launcher } from '../helpers/launcher';
import { Stack, testConfig } from '../helpers/stack';
import { call } from '../helpers/wait';
import { endOf, Inbox, nameOf, sumFigures } from './inbox';

const GATEWAYS = 3;
const WORKERS = 2;
/** Shared rooms: /orders order rooms, each joined by clients on every gateway. */
const ORDER_ROOMS = 6;
const PER_ORDER_ROOM = 500;
/** Private rooms: /notification user rooms, each user with two sockets on two gateways. */
const USERS = 10;
/** A multiple of the notification's batch cap (20): every window fills and leaves at once. */
const PER_USER = 200;
const ORDER_CLIENTS = 12;
const ROOMS_PER_ORDER_CLIENT = 3;
/** Items per POST /api/events/batch; 5 requests, sent at once, spread over the gateways. */
const BATCH = 1000;

type Item = { event: string; data: Record<string, unknown>; target?: Record<string, string> };
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const orderRoom = (r: number) => `order:scale-${r}`;
const userRoom = (u: number) => `user:user-${u}`;
const orderItem = (r: number, note: string): Item => ({
  event: 'order_status_changed',
  data: { orderId: `scale-${r}`, status: 'preparing', note },
});
const notificationItem = (u: number, title: string): Item => ({
  event: 'notification',
  target: { userId: `user-${u}` },
  data: { title, body: 'scale test' },
});

/** Resolves true when `promise` settles within `ms`, false otherwise (the figures are logged either way). */
const within = (promise: Promise<unknown>, ms: number) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });

describe('3 gateways x 2 workers started by the launcher', () => {
  // Accepts, not their latency, are what this test needs: on a loaded machine (CI runs two test
  // files at once) 1,000-item batches to three gateways at once can take longer than the 2 s of
  // testConfig, and such items are refused `unavailable`.
  const stack = new Stack(testConfig({ ENQUEUE_TIMEOUT_MS: '15000' }));
  let launcher: Launcher | undefined;
  afterAll(async () => {
    await launcher?.stop();
    await stack.close();
  }, 30_000);

  it('every client gets every event of its rooms once (after de-duplication), in room order, and nothing else', async () => {
    launcher = await launch(stack, GATEWAYS, WORKERS);
    expect(launcher.gateways.map((g) => g.name)).toEqual(['gateway-1', 'gateway-2', 'gateway-3']);
    const gatewayOf = (i: number) => ({ port: launcher!.gateways[i % GATEWAYS]!.port }) as Gateway;

    // What each room will carry, named by the producer.
    const names = new Map<string, Set<string>>();
    for (const r of range(ORDER_ROOMS))
      names.set(orderRoom(r), new Set(range(PER_ORDER_ROOM).map((s) => nameOf(orderRoom(r), s))));
    for (const u of range(USERS))
      names.set(userRoom(u), new Set(range(PER_USER).map((s) => nameOf(userRoom(u), s))));
    const expectFor = (rooms: string[]) => new Map(rooms.map((room) => [room, names.get(room)!]));

    // Order clients: client i on gateway i % 3, in rooms i, i+1, i+2 (so each room has clients on every gateway).
    const orderClients = range(ORDER_CLIENTS).map(async (i) => {
      const rooms = range(ROOMS_PER_ORDER_CLIENT).map((k) => (i + k) % ORDER_ROOMS);
      const socket = await stack.client(
        gatewayOf(i),
        '/orders',
        await stack.auth(`ops-${i}`, ['admin']),
      );
      const inbox = new Inbox(expectFor(rooms.map(orderRoom))).listen(
        socket,
        'order_status_changed',
        (d) => [(d as { note: string }).note],
      );
      for (const r of rooms)
        expect(await call(socket, 'join_order', { orderId: `scale-${r}` })).toMatchObject({
          ok: true,
        });
      return inbox;
    });
    // Notification clients: user u has a socket on gateway u % 3 and one on the next; both start in user:{u}.
    const userClients = range(USERS * 2).map(async (k) => {
      const u = k >> 1;
      const socket: Socket = await stack.client(
        gatewayOf(u + (k & 1)),
        '/notification',
        await stack.auth(`user-${u}`),
      );
      return new Inbox(expectFor([userRoom(u)])).listen(socket, 'notification', (d) =>
        (d as { items: Array<{ title: string }> }).items.map((item) => item.title),
      );
    });
    const inboxes = await Promise.all([...orderClients, ...userClients]);

    // 5,000 items, order and notification events interleaved, in 5 batch requests sent at once.
    const orders = range(PER_ORDER_ROOM).flatMap((s) =>
      range(ORDER_ROOMS).map((r) => orderItem(r, nameOf(orderRoom(r), s))),
    );
    const notes = range(PER_USER).flatMap((s) =>
      range(USERS).map((u) => notificationItem(u, nameOf(userRoom(u), s))),
    );
    const items = orders
      .flatMap((o, i) => (i % 3 === 2 ? [o, ...notes.splice(0, 2)] : [o]))
      .concat(notes);
    expect(items).toHaveLength(ORDER_ROOMS * PER_ORDER_ROOM + USERS * PER_USER);
    const startedAt = Date.now();
    const answers = await Promise.all(
      range(items.length / BATCH).map(async (b) => {
        const res = await stack.post(gatewayOf(b), '/api/events/batch', {
          events: items.slice(b * BATCH, (b + 1) * BATCH),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as {
          accepted: number;
          results: Array<{ error?: { code: string } }>;
        };
      }),
    );
    const refused: Record<string, number> = {};
    for (const { error } of answers.flatMap((a) => a.results))
      if (error) refused[error.code] = (refused[error.code] ?? 0) + 1;
    expect({ accepted: answers.reduce((sum, a) => sum + a.accepted, 0), refused }).toEqual({
      accepted: items.length,
      refused: {},
    });

    const complete = await within(Promise.all(inboxes.map((inbox) => inbox.complete)), 40_000);
    const elapsedMs = Date.now() - startedAt;
    // One end item per room, after everything: once it arrived, every earlier emit of that room has too.
    const ends = [
      ...range(ORDER_ROOMS).map((r) => orderItem(r, endOf(orderRoom(r)))),
      ...range(USERS).map((u) => notificationItem(u, endOf(userRoom(u)))),
    ];
    expect((await stack.post(gatewayOf(0), '/api/events/batch', { events: ends })).status).toBe(
      200,
    );
    const ended = await within(Promise.all(inboxes.map((inbox) => inbox.ended)), 10_000);

    const f = sumFigures(inboxes);
    const expected = inboxes.reduce((sum, inbox) => sum + inbox.expectedItems, 0);
    const perWorker = await Promise.all(launcher.workers.map((w) => deliveredBy(w.port)));
    console.log(
      `scale ${GATEWAYS} gateways x ${WORKERS} workers: ${items.length} events (${ORDER_ROOMS * PER_ORDER_ROOM} to ${ORDER_ROOMS} shared /orders rooms, ` +
        `${USERS * PER_USER} to ${USERS} private /notification rooms), ${inboxes.length} clients: ` +
        `${f.delivered}/${expected} delivered, ${f.duplicates} duplicates, ${f.outOfOrder} out of order, ${f.lost} lost, ${f.extra} extra, ` +
        `${f.twice} twice under another id; emits per worker ${perWorker.join('/')}; all delivered ${complete ? `${elapsedMs} ms after the first publish` : 'NOT within 40 s'}`,
    );
    if (!complete || !ended) console.log(`launcher output:\n${launcher.output().slice(-6000)}`);
    expect({ complete, ended }).toEqual({ complete: true, ended: true });
    expect(f).toMatchObject({ delivered: expected, outOfOrder: 0, lost: 0, extra: 0, twice: 0 });
  }, 60_000);
});

/** A worker's `switchboard_events_delivered_total`, summed over events (a throttle window counts once). */
async function deliveredBy(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('switchboard_events_delivered_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}
