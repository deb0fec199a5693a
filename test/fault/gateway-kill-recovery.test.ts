import type { Socket } from 'socket.io-client';
import { killChild, Stack, testConfig } from '../helpers/stack';
import {
  cmpOffset,
  RoomTracker,
  spawnGateway,
  spawnWorker,
  type SpawnedGateway,
} from '../helpers/fault';
import { call, nextEvent, sleep, until } from '../helpers/wait';

type JoinAck = {
  ok: boolean;
  data?: { room: string; recovered?: number; incomplete?: true };
  error?: { code: string };
};

const CLIENTS = 3;
const ORDER = 'gk';
/** Producer pace: one POST every ~10 ms. */
const EVERY_MS = 10;

/** Posts order_status_changed to a gateway every EVERY_MS until stopped; keeps the ids of the 202s. */
function startProducer(stack: Stack, gw: SpawnedGateway) {
  const accepted: string[] = [];
  const refused: number[] = [];
  let running = true;
  let n = 0;
  // A named function, not an IIFE: TypeScript would read `running` as still `true` inside one.
  const produce = async () => {
    while (running) {
      const started = Date.now();
      const res = await stack.post(gw.gw, '/api/events', {
        event: 'order_status_changed',
        target: { orderId: ORDER },
        data: { orderId: ORDER, status: 'preparing', note: String(n++) },
      });
      if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
      else refused.push(res.status);
      await sleep(Math.max(0, EVERY_MS - (Date.now() - started))); // the producer's pace
    }
  };
  const done = produce();
  return {
    accepted,
    refused,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

describe('fault: a gateway SIGKILLed while events flow to its clients', () => {
  const stack = new Stack(testConfig({ RATE_HTTP_BURST: '100000', RATE_HTTP_PER_SEC: '100000' }));
  afterAll(() => stack.close(), 30_000);

  it('its clients re-join on the other gateway with `since` and get every event once, in room order', async () => {
    const [a, b] = await Promise.all([
      spawnGateway(stack),
      spawnGateway(stack),
      spawnWorker(stack),
    ]);
    const admin = await stack.auth('ops', ['admin']);

    const trackers = Array.from({ length: CLIENTS }, () => new RoomTracker());
    const onA: Socket[] = [];
    for (const tracker of trackers) {
      const socket = await stack.client(a.gw, '/orders', admin);
      tracker.attach(socket);
      expect(await call<JoinAck>(socket, 'join_order', { orderId: ORDER })).toEqual({
        ok: true,
        data: { room: `order:${ORDER}`, offset: '0-0' },
      });
      onA.push(socket);
    }

    // Events flow (published through B, delivered to A's clients through Redis) ...
    const producer = startProducer(stack, b);
    await until(() => trackers.every((t) => t.unique >= 30), 15_000, 'live events on gateway A');

    // ... A dies without a word to its clients.
    const disconnects = onA.map(
      (s) => new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason))),
    );
    await killChild(a.child, 'SIGKILL');
    const killedAt = Date.now();
    expect(await Promise.all(disconnects)).toEqual(trackers.map(() => 'transport close'));
    const beforeKill = trackers.map((t) => t.unique);
    const lastOffsets = trackers.map((t) => t.lastOffset);
    const acceptedAtKill = producer.accepted.length;

    // Offline for a while (the producer keeps going), then back on B with `since`. The second is
    // the test's own gap: what the re-join must recover.
    await sleep(1000);
    const acks: JoinAck[] = [];
    const onB: Socket[] = [];
    for (const [i, tracker] of trackers.entries()) {
      const socket = await stack.client(b.gw, '/orders', admin);
      onB.push(socket);
      tracker.attach(socket);
      expect(lastOffsets[i]).toMatch(/^\d+-\d+$/);
      acks.push(
        await call<JoinAck>(socket, 'join_order', { orderId: ORDER, since: lastOffsets[i] }),
      );
    }
    const rejoinedAt = Date.now();
    // Live traffic on B after the re-join.
    const liveOnB = (t: RoomTracker) =>
      t.deliveries.filter((d) => d.conn === 1 && !d.recovered).length;
    await until(() => trackers.every((t) => liveOnB(t) >= 30), 15_000, 'live events on gateway B');
    await producer.stop();
    const accepted = producer.accepted;

    await until(
      () => trackers.every((t) => accepted.every((id) => t.has(id))),
      15_000,
      'every accepted event at every client',
    ).catch(() => undefined);
    const allAfterMs = Date.now() - killedAt;
    // A barrier: one more event to the room (another event name, so the trackers do not count it),
    // through the same queue, worker and gateway; a late duplicate would have arrived before it.
    const barriers = onB.map((s) => nextEvent(s, 'payment_confirmed', 10_000));
    const barrier = await stack.post(b.gw, '/api/events', {
      event: 'payment_confirmed',
      target: { orderId: ORDER },
      data: { orderId: ORDER, paymentId: 'barrier', amount: 1, currency: 'EUR' },
    });
    expect(barrier.status).toBe(202);
    await Promise.all(barriers);

    const summary = trackers.map((t, i) => {
      const first = t.firstDeliveries();
      const outOfOrder = first.filter(
        (d, j) => j > 0 && cmpOffset(d.offset, first[j - 1]!.offset) <= 0,
      ).length;
      const onB = t.deliveries.filter((d) => d.conn === 1);
      const firstLive = onB.findIndex((d) => !d.recovered);
      const recoveredAfterLive =
        firstLive < 0 ? 0 : onB.slice(firstLive).filter((d) => d.recovered).length;
      return {
        ...t.diff(accepted),
        unique: t.unique,
        duplicates: t.duplicates,
        outOfOrder,
        recovered: onB.filter((d) => d.recovered).length,
        live: onB.filter((d) => !d.recovered).length,
        recoveredAfterLive,
        beforeKill: beforeKill[i]!,
      };
    });
    console.log(
      `fault: gateway SIGKILL: ${CLIENTS} clients moved A->B, ${accepted.length} accepted (202), ${producer.refused.length} refused, ` +
        `${acceptedAtKill} accepted before the kill; per client unique/duplicates/recovered/live-on-B: ` +
        summary.map((s) => `${s.unique}/${s.duplicates}/${s.recovered}/${s.live}`).join(', ') +
        `; out of order ${summary.reduce((n, s) => n + s.outOfOrder, 0)}; re-joined ${rejoinedAt - killedAt} ms after the kill, ` +
        `all delivered ${allAfterMs} ms after it`,
    );

    expect(producer.refused).toEqual([]);
    expect(accepted.length).toBeGreaterThan(acceptedAtKill);
    for (const [i, s] of summary.entries()) {
      expect({ client: i, missing: s.missing.length, extra: s.extra.length }).toEqual({
        client: i,
        missing: 0,
        extra: 0,
      });
      expect(s.unique).toBe(accepted.length);
      // Room order (meta.offset ascending) across the kill, after de-duplication by id.
      expect(s.outOfOrder).toBe(0);
      // The re-join replayed what was missed (there was a gap), all before the first live event.
      expect(acks[i]).toEqual({
        ok: true,
        data: {
          room: `order:${ORDER}`,
          offset: expect.stringMatching(/^\d+-\d+$/) as unknown,
          recovered: s.recovered,
        },
      });
      expect(s.recovered).toBeGreaterThan(0);
      expect(s.live).toBeGreaterThan(0);
      expect(s.recoveredAfterLive).toBe(0);
      // Nothing seen before the kill was replayed: `since` is exclusive.
      const beforeIds = new Set(
        trackers[i]!.deliveries.filter((d) => d.conn === 0).map((d) => d.id),
      );
      expect(
        trackers[i]!.deliveries.filter((d) => d.conn === 1 && d.recovered && beforeIds.has(d.id)),
      ).toEqual([]);
    }
  }, 60_000);
});
