import type { Socket } from 'socket.io-client';
import type { EventMeta } from '../../src/catalog';
import { SLOW_CONSUMER_CLOSE_CODE } from '../../src/gateway/outbound-cap';
import { Stack, testConfig } from '../helpers/stack';
import { call, until } from '../helpers/wait';

const CAP = 256 * 1024;
/** ~700-byte events: well past the cap plus what the kernel's socket buffers hold on loopback. */
const EVENTS = 12_000;
const NOTE = 'n'.repeat(480);

type Order = { orderId: string; status: string; note?: string };

/** The TCP socket under a socket.io-client websocket (Node's `ws`): pausing it stops reading, for real. */
function tcpOf(socket: Socket): { pause(): void; resume(): void } {
  const transport = (
    socket.io.engine as unknown as {
      transport: { ws: { _socket: { pause(): void; resume(): void } } };
    }
  ).transport;
  return transport.ws._socket;
}

/**
 * A client whose socket stops reading is closed once the gateway holds more than
 * MAX_CLIENT_BUFFER_BYTES for it, with close code 4008; a healthy client of the same room gets
 * every event; the stalled one, reading again, sees why, re-joins with `since` and recovers the
 * rest from history, every event exactly once and in order.
 */
describe('slow consumers (MAX_CLIENT_BUFFER_BYTES)', () => {
  const stack = new Stack(
    testConfig({ MAX_CLIENT_BUFFER_BYTES: String(CAP), HISTORY_MAX_LEN: '20000' }),
  );
  afterAll(() => stack.close());

  it('closes a stalled client past the cap, spares the healthy one, and the stalled one recovers from history', async () => {
    const gw = await stack.gateway();
    await stack.worker();
    const auth = await stack.auth('ops', ['admin']);
    const healthy = await stack.client(gw, '/orders', auth);
    const stalled = await stack.client(gw, '/orders', auth);
    const stalledId = stalled.id;
    for (const s of [healthy, stalled]) await call(s, 'join_order', { orderId: 'slow' });
    const healthySeen: string[] = [];
    healthy.on('order_status_changed', (_d: Order, meta: EventMeta) => healthySeen.push(meta.id));
    const stalledSeen: Array<{ id: string; offset: string }> = [];
    stalled.on('order_status_changed', (_d: Order, meta: EventMeta) =>
      stalledSeen.push({ id: meta.id, offset: meta.offset ?? '' }),
    );
    const closed = new Promise<unknown>((resolve) =>
      stalled.on('disconnect', (_reason, details) => resolve(details)),
    );

    tcpOf(stalled).pause();
    const accepted: string[] = [];
    for (let n = 0; n < EVENTS; n += 500) {
      const chunk = await Promise.all(
        Array.from({ length: Math.min(500, EVENTS - n) }, () =>
          gw.runtime.events.emitToOrder('order_status_changed', 'slow', {
            orderId: 'slow',
            status: 'preparing',
            note: NOTE,
          }),
        ),
      );
      accepted.push(...chunk.map((a) => a.id));
    }
    await until(
      () => gw.outbound.slowConsumerDisconnects === 1,
      30_000,
      'the stalled client closed',
    );
    expect(gw.io.of('/orders').sockets.has(stalledId!)).toBe(false);
    expect(gw.io.of('/orders').sockets.has(healthy.id!)).toBe(true);

    // The healthy client of the same room and gateway got everything, in order.
    await until(
      () => healthySeen.length >= EVENTS,
      30_000,
      'the healthy client to receive every event',
    );
    expect(healthySeen).toEqual(accepted);

    // Reading again, the stalled client drains what was already on the wire, then sees the close code.
    tcpOf(stalled).resume();
    const details = (await closed) as { context?: { code?: number; reason?: unknown } } | undefined;
    expect(details?.context?.code).toBe(SLOW_CONSUMER_CLOSE_CODE);
    expect(String(details?.context?.reason)).toBe('slow_consumer');
    expect(stalledSeen.length).toBeLessThan(EVENTS);

    // It comes back and recovers the gap from the room history: every event once, in order.
    const again = await stack.client(gw, '/orders', auth);
    const recovered: string[] = [];
    again.on('order_status_changed', (_d: Order, meta: EventMeta) => recovered.push(meta.id));
    const last = stalledSeen.at(-1);
    const ack = await call<{ ok: boolean; data?: { recovered: number } }>(again, 'join_order', {
      orderId: 'slow',
      ...(last ? { since: last.offset } : {}),
    });
    expect(ack.ok).toBe(true);
    await until(
      () => stalledSeen.length + recovered.length >= EVENTS,
      15_000,
      'the rest recovered',
    );
    const all = [...stalledSeen.map((e) => e.id), ...recovered];
    expect(all).toEqual(accepted);
  }, 90_000);
});
