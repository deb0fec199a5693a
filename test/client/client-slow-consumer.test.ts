import type { Manager } from 'socket.io-client';
import type { SwitchboardClient } from '../../src/client';
import { Stack, testConfig } from '../helpers/stack';
import { until } from '../helpers/wait';
import { orderApp, summarize, line } from './app';

const CAP = 256 * 1024;
/** ~700-byte events: well past the cap plus what the kernel's socket buffers hold on loopback. */
const EVENTS = 12_000;
const NOTE = 'n'.repeat(480);

/** The TCP socket under the library's websocket (Node's `ws`): pausing it stops reading, for real. */
function tcpOf(client: SwitchboardClient): { pause(): void; resume(): void } {
  const manager = (client as unknown as { manager: Manager }).manager;
  return (
    manager.engine as unknown as {
      transport: { ws: { _socket: { pause(): void; resume(): void } } };
    }
  ).transport.ws._socket;
}

describe('client library: the gateway closes it as a slow consumer', () => {
  const stack = new Stack(
    testConfig({ MAX_CLIENT_BUFFER_BYTES: String(CAP), HISTORY_MAX_LEN: '20000' }),
  );
  afterAll(() => stack.close(), 30_000);

  it('onSlowConsumer fires once the client reads again; it reconnects and recovers: every event once, in room order', async () => {
    const gw = await stack.gateway();
    await stack.worker();
    const slow: string[] = [];
    const app = await orderApp(
      {
        url: `http://127.0.0.1:${gw.port}`,
        token: () => stack.token('ops', ['admin']),
        socket: { reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 },
        onSlowConsumer: (ns) => slow.push(ns),
      },
      'slow',
    );
    try {
      tcpOf(app.client).pause();
      const accepted: string[] = [];
      for (let n = 0; n < EVENTS; n += 500) {
        const chunk = await Promise.all(
          Array.from({ length: Math.min(500, EVENTS - n) }, (_, i) =>
            gw.runtime.events.emitToOrder('order_status_changed', 'slow', {
              orderId: 'slow',
              status: 'preparing',
              note: `${n + i} ${NOTE}`,
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
      tcpOf(app.client).resume();
      await until(() => slow.length === 1, 15_000, 'onSlowConsumer');
      await until(() => app.seen.length >= EVENTS, 30_000, 'every event, through recovery').catch(
        () => undefined,
      );

      const s = summarize(app.seen, accepted);
      console.log(
        `client library, slow consumer (cap ${CAP} bytes, ${EVENTS} events): ${line(s, app.client)}; onSlowConsumer ${JSON.stringify(slow)}`,
      );
      // The catch-up itself may be closed as slow again (a long replay to a client in a busy
      // process): each close is reported, and the next connection picks up from the last offset.
      expect(slow.length).toBeGreaterThanOrEqual(1);
      expect(new Set(slow)).toEqual(new Set(['/orders']));
      expect(app.connects.length).toBe(slow.length + 1);
      expect(s).toMatchObject({ duplicates: 0, missing: [], extra: [], outOfRoomOrder: 0 });
      expect(s.recovered).toBeGreaterThan(0);
    } finally {
      app.client.close();
    }
  }, 120_000);
});
