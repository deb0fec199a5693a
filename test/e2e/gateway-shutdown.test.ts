import { io } from 'socket.io-client';
import { Stack, waitForOutput } from '../helpers/stack';
import { freePort } from '../helpers/redis-server';
import { call } from '../helpers/wait';

describe('gateway SIGTERM', () => {
  const stack = new Stack();
  afterAll(() => stack.close());

  it('closes transports so clients reconnect, and exits 0', async () => {
    const port = await freePort();
    const child = stack.spawnTs('src/app/gateway-main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    await waitForOutput(child, 'gateway ready');
    const client = io(`http://127.0.0.1:${port}/orders`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: await stack.auth('u-shutdown'),
    });
    stack.sockets.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('connect_error', reject);
    });
    expect(await call(client, 'get_rooms')).toEqual({ ok: true, data: [] });

    const reason = new Promise<string>((resolve) => client.once('disconnect', (r) => resolve(r)));
    const exit = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    // "transport close" is the reason socket.io-client reconnects on; "io server disconnect" would not.
    expect(await reason).toBe('transport close');
    expect(await exit).toBe(0);
  });
});
