import type { Socket } from 'socket.io-client';
import { mintToken } from '../../src/auth/tokens';
import { createClient } from '../../src/client';
import type { Gateway } from '../../src/gateway/server';
import { Stack, testConfig } from '../helpers/stack';
import { call, nextEvent, until } from '../helpers/wait';

type RefreshAck = { ok: boolean; data?: { expiresAt: number }; error?: { code: string } };

/**
 * Tokens that expire during a connection: past `exp` + TOKEN_EXPIRY_GRACE_MS a socket is told
 * `disconnect_reason { reason: 'token_expired' }` and disconnected, unless it sent `refresh_token`
 * with a valid token of the same user first. Real gateway and socket.io clients; 2 s tokens.
 */
describe('token expiry and refresh_token', () => {
  const stack = new Stack(testConfig({ TOKEN_EXPIRY_GRACE_MS: '300', JWT_CLOCK_TOLERANCE_S: '0' }));
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
  });
  afterAll(() => stack.close());

  const token = (userId: string, ttlSeconds: number) =>
    mintToken(stack.config, { userId, ttlSeconds });
  const connect = async (userId: string, ttlSeconds: number) =>
    stack.client(gw, '/orders', { token: await token(userId, ttlSeconds) });
  const disconnected = (socket: Socket) =>
    new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

  it('disconnects a socket whose token expired, saying why; a refreshed one of the same age stays', async () => {
    const [stale, fresh] = [await connect('u1', 2), await connect('u1', 2)];
    const said = nextEvent<{ code: string; reason?: string }>(stale, 'disconnect_reason', 10_000);
    const gone = disconnected(stale);
    const longer = await token('u1', 3600);
    const ack = await call<RefreshAck>(fresh, 'refresh_token', { token: longer });
    expect(ack.ok).toBe(true);
    expect(ack.data!.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);

    const [reason] = await said;
    expect(reason).toMatchObject({ code: 'unauthorized', reason: 'token_expired' });
    expect(await gone).toBe('io server disconnect');
    // Both tokens had the same exp: the refreshed socket passed it and is still answered.
    expect(fresh.connected).toBe(true);
    expect(await call(fresh, 'ping')).toMatchObject({ ok: true });
  });

  it("refuses another user's token and a malformed one, and changes nothing", async () => {
    const socket = await connect('u2', 2);
    const gone = disconnected(socket);
    for (const bad of [await token('someone-else', 3600), 'not-a-jwt', ''])
      expect(await call<RefreshAck>(socket, 'refresh_token', { token: bad })).toMatchObject({
        ok: false,
        error: { code: bad === '' ? 'invalid_payload' : 'unauthorized' },
      });
    // The refusals moved nothing: the socket goes at its first token's expiry.
    expect(await gone).toBe('io server disconnect');
  });

  it('an anonymous socket cannot refresh, and is never disconnected for expiry', async () => {
    const anonymous = new Stack(testConfig({ AUTH_MODE: 'anonymous' }));
    try {
      const agw = await anonymous.gateway();
      const socket = await anonymous.client(agw, '/social', {});
      expect(
        await call<RefreshAck>(socket, 'refresh_token', { token: await token('u3', 60) }),
      ).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      expect(agw.access.expiry.watched).toBe(0);
    } finally {
      await anonymous.close();
    }
  });
});

describe('the client library refreshes its token ahead of expiry', () => {
  const stack = new Stack(testConfig({ TOKEN_EXPIRY_GRACE_MS: '300', JWT_CLOCK_TOLERANCE_S: '0' }));
  afterAll(() => stack.close());

  it('stays connected through several 2 s token lifetimes, asking its token function each time', async () => {
    const gw = await stack.gateway();
    let minted = 0;
    const disconnects: string[] = [];
    const sb = createClient({
      url: stack.url(gw, ''),
      token: () => {
        minted++;
        return mintToken(stack.config, { userId: 'u9', ttlSeconds: 2 });
      },
      onDisconnect: (_ns, reason) => disconnects.push(reason),
    });
    try {
      await sb.join('/orders', 'order:rt1').catch(() => undefined);
      // Three refreshes: past three lifetimes of the first token's two seconds, plus the grace.
      await until(() => sb.stats.refreshes >= 3, 15_000, 'three refreshes');
      expect(disconnects).toEqual([]);
      expect(sb.stats.connects).toBe(1);
      expect(minted).toBe(4);
      expect(await sb.call('/orders', 'ping')).toMatchObject({
        pong: expect.any(Number) as unknown,
      });
    } finally {
      sb.close();
    }
  });
});

describe('POST /admin/users/:id/revoke', () => {
  const ADMIN_TOKEN = 'revoke-admin-token-0123456789abcdef';
  const stack = new Stack(testConfig({ ADMIN_TOKEN }));
  afterAll(() => stack.close());

  it("refuses the user's older tokens on every gateway, at the handshake and by refresh_token; newer ones pass", async () => {
    const [a, b] = [await stack.gateway(), await stack.gateway()];
    const old = await mintToken(stack.config, { userId: 'u7', ttlSeconds: 600 });
    const connected = await stack.client(b, '/orders', { token: old });
    // iat counts whole seconds: revoke in a later second than the old token's.
    const issuedIn = Math.floor(Date.now() / 1000);
    await until(() => Math.floor(Date.now() / 1000) > issuedIn, 2000, 'the next second');

    const url = stack.url(a, '/admin/users/u7/revoke');
    expect((await fetch(url, { method: 'POST' })).status).toBe(401);
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { userId: string; revokedBefore: number };
    expect(body.userId).toBe('u7');
    expect(body.revokedBefore).toBeGreaterThan(issuedIn * 1000);

    // The other gateway refuses the old token at the handshake...
    await expect(stack.client(b, '/orders', { token: old })).rejects.toMatchObject({
      message: 'token revoked: sign in again',
      data: { code: 'unauthorized' },
    });
    // ...and as a refresh; the socket connected before the revocation is still there.
    expect(await call(connected, 'refresh_token', { token: old })).toMatchObject({
      ok: false,
      error: { code: 'unauthorized', message: 'token revoked: sign in again' },
    });
    expect(connected.connected).toBe(true);
    // A token issued from the revocation's second on is accepted, on both gateways.
    const fresh = await mintToken(stack.config, { userId: 'u7', ttlSeconds: 600 });
    expect((await stack.client(a, '/orders', { token: fresh })).connected).toBe(true);
    expect(await call(connected, 'refresh_token', { token: fresh })).toMatchObject({ ok: true });
    // Another user is untouched.
    const other = await mintToken(stack.config, { userId: 'u8', ttlSeconds: 600 });
    expect((await stack.client(b, '/orders', { token: other })).connected).toBe(true);
  });
});
