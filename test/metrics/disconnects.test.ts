import type { Socket } from 'socket.io-client';
import { DISCONNECT_REASON_EVENT } from '../../src/gateway/system-events';
import type { Gateway } from '../../src/gateway/server';
import { Stack, testConfig } from '../helpers/stack';
import { until } from '../helpers/wait';
import { parseMetrics, valueOf } from './scrape';

/** The TCP socket under a socket.io-client websocket (Node's `ws`): pausing it stops reading, for real. */
function tcpOf(socket: Socket): { pause(): void; resume(): void } {
  const transport = (
    socket.io.engine as unknown as {
      transport: { ws: { _socket: { pause(): void; resume(): void } } };
    }
  ).transport;
  return transport.ws._socket;
}

async function metric(gw: Gateway, name: string, labels: Record<string, string>): Promise<number> {
  return valueOf(parseMetrics(await gw.metrics.text()), name, labels) ?? 0;
}

/**
 * Disconnects the gateway decides on are counted under their own reason, not socket.io's:
 * `slow_consumer` (MAX_CLIENT_BUFFER_BYTES; socket.io says `forced close`) and `rate_limited`
 * (flooding; socket.io says `server namespace disconnect`).
 */
describe('disconnect reasons', () => {
  const stack = new Stack(
    testConfig({
      MAX_CLIENT_BUFFER_BYTES: '65536',
      RATE_SOCKET_BURST: '3',
      RATE_SOCKET_PER_SEC: '1',
      RATE_FLOOD_DISCONNECT_AFTER: '2',
    }),
  );
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
  });
  afterAll(() => stack.close());

  it('counts a slow consumer closed past the cap as slow_consumer', async () => {
    const stalled = await stack.client(gw, '/orders');
    const healthy = await stack.client(gw, '/orders');
    const serverSide = gw.io.of('/orders').sockets.get(stalled.id!)!;
    tcpOf(stalled).pause();
    // 60 KB frames until the gateway gives up on it: the loopback's kernel buffers take a few MB first.
    const frame = 'x'.repeat(60_000);
    for (let i = 0; i < 2000 && gw.outbound.slowConsumerDisconnects === 0; i++) {
      serverSide.emit('recovery_incomplete', { room: 'order:1', reason: frame });
      await new Promise((r) => setImmediate(r));
    }
    expect(gw.outbound.slowConsumerDisconnects).toBe(1);
    await until(
      async () =>
        (await metric(gw, 'switchboard_socket_disconnects_total', { reason: 'slow_consumer' })) ===
        1,
      5000,
      'slow_consumer counted',
    );
    expect(
      await metric(gw, 'switchboard_socket_disconnects_total', { reason: 'forced close' }),
    ).toBe(0);
    expect(await metric(gw, 'switchboard_sockets_connected', { namespace: '/orders' })).toBe(1);
    expect(healthy.connected).toBe(true);
    tcpOf(stalled).resume();
  }, 30_000);

  it('counts a flooding socket disconnected by the guard as rate_limited, and its refused actions', async () => {
    const flooder = await stack.client(gw, '/social');
    const told = new Promise<unknown>((resolve) => flooder.once(DISCONNECT_REASON_EVENT, resolve));
    const gone = new Promise<string>((resolve) => flooder.once('disconnect', resolve));
    for (let i = 0; i < 10; i++) flooder.emit('ping', () => undefined);
    expect(await told).toMatchObject({ code: 'rate_limited' });
    expect(await gone).toBe('io server disconnect');
    await until(
      async () =>
        (await metric(gw, 'switchboard_socket_disconnects_total', { reason: 'rate_limited' })) ===
        1,
      5000,
      'rate_limited counted',
    );
    expect(
      await metric(gw, 'switchboard_socket_disconnects_total', {
        reason: 'server namespace disconnect',
      }),
    ).toBe(0);
    // The admitted pings finish after their user bucket's Redis round trip.
    await until(
      async () =>
        (await metric(gw, 'switchboard_client_actions_total', {
          namespace: '/social',
          action: 'ping',
          result: 'ok',
        })) === 3,
      5000,
      'ok pings',
    );
    expect(
      await metric(gw, 'switchboard_client_actions_total', {
        namespace: '/social',
        action: 'ping',
        result: 'rate_limited',
      }),
    ).toBeGreaterThanOrEqual(2);
  });
});
