import { Stack, testConfig } from '../helpers/stack';
import { until } from '../helpers/wait';

/**
 * MAX_CONNECTIONS_PER_USER counts a user's sockets on every gateway (presence's count): one more
 * handshake is refused with `too_many_connections`, and a closed socket frees its place.
 */
describe('MAX_CONNECTIONS_PER_USER', () => {
  const stack = new Stack(testConfig({ MAX_CONNECTIONS_PER_USER: '2' }));
  afterAll(() => stack.close());

  it('refuses a third socket of one user across two gateways, and admits one once a socket closed', async () => {
    const [a, b] = [await stack.gateway(), await stack.gateway()];
    const count = (user: string) => a.access.presence.socketsOf(user);
    const first = await stack.client(a, '/orders', await stack.auth('cap-1'));
    await stack.client(b, '/social', await stack.auth('cap-1'));
    await until(async () => (await count('cap-1')) === 2, 5000, 'both counted');

    await expect(stack.client(b, '/orders', await stack.auth('cap-1'))).rejects.toMatchObject({
      message: expect.stringContaining('MAX_CONNECTIONS_PER_USER') as unknown,
      data: { code: 'too_many_connections' },
    });
    // Another user is not limited by this one's sockets.
    expect((await stack.client(b, '/orders', await stack.auth('cap-2'))).connected).toBe(true);

    first.disconnect();
    await until(async () => (await count('cap-1')) === 1, 5000, 'the closed socket uncounted');
    expect((await stack.client(a, '/chat', await stack.auth('cap-1'))).connected).toBe(true);
  });
});
