import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import type { Gateway } from '../../src/gateway/server';
import { Stack, testConfig } from '../helpers/stack';
import { call } from '../helpers/wait';

type ConnectOutcome = { ok: true } | { ok: false; message: string; code: unknown };

/** Connects with the given auth and reports whether the handshake was accepted, and if not why. */
function connect(gw: Gateway, ns: string, auth: Record<string, unknown>): Promise<ConnectOutcome> {
  const socket = io(`http://127.0.0.1:${gw.port}${ns}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth,
  });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.disconnect();
      resolve({ ok: true });
    });
    socket.once('connect_error', (err: Error & { data?: { code?: unknown } }) => {
      socket.disconnect();
      resolve({ ok: false, message: err.message, code: err.data?.code });
    });
  });
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('handshake JWT', () => {
  const stack = new Stack();
  const c = stack.config;
  const secret = new TextEncoder().encode(c.JWT_SECRET);
  const now = () => Math.floor(Date.now() / 1000);
  const signed = (
    claims: { sub?: string; exp?: number; nbf?: number; iss?: string; aud?: string },
    key = secret,
  ) => {
    const jwt = new SignJWT({ roles: [] }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
    if (claims.sub) jwt.setSubject(claims.sub);
    jwt
      .setIssuer(claims.iss ?? c.JWT_ISSUER)
      .setAudience(claims.aud ?? c.JWT_AUDIENCE)
      .setExpirationTime(claims.exp ?? now() + 600);
    if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
    return jwt.sign(key);
  };
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
  });
  afterAll(() => stack.close());

  it('accepts only the valid token, and says why each other one is refused', async () => {
    const cases: Array<[string, string, string | undefined]> = [
      ['valid', await signed({ sub: '42' }), undefined],
      ['expired', await signed({ sub: '42', exp: now() - 120 }), 'token expired'],
      [
        'forged signature',
        await signed(
          { sub: '42' },
          new TextEncoder().encode('another-secret-of-at-least-32-characters'),
        ),
        'token signature invalid',
      ],
      [
        'alg none',
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '42', iss: c.JWT_ISSUER, aud: c.JWT_AUDIENCE, exp: now() + 600 })}.`,
        'token algorithm not allowed',
      ],
      [
        'wrong audience',
        await signed({ sub: '42', aud: 'someone-else' }),
        'token audience mismatch',
      ],
      ['wrong issuer', await signed({ sub: '42', iss: 'evil' }), 'token issuer mismatch'],
      ['not yet valid', await signed({ sub: '42', nbf: now() + 600 }), 'token not yet valid'],
      ['no subject', await signed({}), 'token claim sub invalid: missing'],
      ['garbage', 'not-a-jwt', 'token malformed'],
    ];
    for (const [label, token, reason] of cases) {
      const outcome = await connect(gw, '/social', { token });
      if (reason === undefined)
        expect({ label, outcome }).toEqual({ label, outcome: { ok: true } });
      else
        expect({ label, outcome }).toEqual({
          label,
          outcome: {
            ok: false,
            message: expect.stringContaining(reason) as unknown,
            code: 'unauthorized',
          },
        });
    }
  });

  it('refuses a socket without a token when auth is required, on every namespace', async () => {
    for (const ns of ['/social', '/chat', '/orders', '/notification']) {
      expect(await connect(gw, ns, {})).toEqual({
        ok: false,
        message: 'token required',
        code: 'unauthorized',
      });
    }
  });

  it('puts the user from the token on the socket (typing carries its id)', async () => {
    const alice = await stack.client(gw, '/social', await stack.auth('alice'));
    const bob = await stack.client(gw, '/social', await stack.auth('bob'));
    await call(alice, 'join_post', { postId: 'p1' });
    await call(bob, 'join_post', { postId: 'p1' });
    const typing = new Promise((resolve) => bob.once('typing', resolve));
    await call(alice, 'typing_start', { postId: 'p1' });
    expect(await typing).toEqual({ postId: 'p1', typing: true, userId: 'alice' });
  });
});

describe('AUTH_MODE=anonymous', () => {
  const stack = new Stack(testConfig({ AUTH_MODE: 'anonymous' }));
  afterAll(() => stack.close());

  it('lets tokenless sockets into public post rooms only, and still refuses bad tokens', async () => {
    const gw = await stack.gateway();
    const anon = await stack.client(gw, '/social', {});
    expect(await call(anon, 'join_post', { postId: '1' })).toEqual({
      ok: true,
      data: { room: 'post:1', offset: '0-0' },
    });
    const anonChat = await stack.client(gw, '/chat', {});
    expect(await call(anonChat, 'join_chat', { chatId: '1' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const anonOrders = await stack.client(gw, '/orders', {});
    expect(await call(anonOrders, 'join_order', { orderId: '1' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await connect(gw, '/social', { token: 'forged.token.here' })).toMatchObject({
      ok: false,
      code: 'unauthorized',
    });
  });
});

describe('JWT_ALG=RS256', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const stack = new Stack(testConfig({ JWT_ALG: 'RS256', JWT_PUBLIC_KEY: pem }));
  afterAll(() => stack.close());

  it('accepts tokens signed by the private key and refuses HS256 tokens keyed with the public key', async () => {
    const gw = await stack.gateway();
    const c = stack.config;
    const claims = () =>
      new SignJWT({})
        .setSubject('7')
        .setIssuer(c.JWT_ISSUER)
        .setAudience(c.JWT_AUDIENCE)
        .setExpirationTime('10m');
    const rs = await claims().setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    const confused = await claims()
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(pem));
    expect(await connect(gw, '/chat', { token: rs })).toEqual({ ok: true });
    expect(await connect(gw, '/chat', { token: confused })).toEqual({
      ok: false,
      message: 'token algorithm not allowed',
      code: 'unauthorized',
    });
  });
});
