import type { Socket } from 'socket.io-client';
import type { Gateway } from '../../src/gateway/server';
import { Stack, testConfig } from '../helpers/stack';
import { call, sleep } from '../helpers/wait';

type AckLike = { ok: boolean; error?: { code: string; retryAfterMs?: number } };

/** Sends `n` pings at once and splits the acks into admitted and refused. */
async function burst(socket: Socket, n: number): Promise<{ ok: number; refused: AckLike[] }> {
  const acks = await Promise.all(Array.from({ length: n }, () => call<AckLike>(socket, 'ping')));
  return { ok: acks.filter((a) => a.ok).length, refused: acks.filter((a) => !a.ok) };
}

describe('socket rate limits', () => {
  const stack = new Stack(
    testConfig({
      RATE_SOCKET_BURST: '5',
      RATE_SOCKET_PER_SEC: '1',
      RATE_USER_BURST: '8',
      RATE_USER_PER_SEC: '1',
      RATE_FLOOD_DISCONNECT_AFTER: '20',
      MAX_PAYLOAD_BYTES: '1024',
    }),
  );
  let a: Gateway;
  let b: Gateway;
  beforeAll(async () => {
    [a, b] = [await stack.gateway(), await stack.gateway()];
  });
  afterAll(() => stack.close());

  it('answers a burst over the limit with rate_limited, keeps the connection, leaves others alone', async () => {
    const noisy = await stack.client(a, '/social', await stack.auth('noisy'));
    const polite = await stack.client(a, '/social', await stack.auth('polite'));
    const { ok, refused } = await burst(noisy, 10);
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(refused.length).toBeGreaterThanOrEqual(4);
    expect(ok + refused.length).toBe(10);
    for (const r of refused) {
      expect(r.error).toEqual({
        code: 'rate_limited',
        message: expect.stringContaining('too many requests') as unknown,
        retryAfterMs: expect.any(Number) as unknown,
      });
      expect(r.error?.retryAfterMs).toBeGreaterThan(0);
    }
    expect(noisy.connected).toBe(true);
    expect(await call(polite, 'ping')).toMatchObject({ ok: true });
    // After the advertised wait, the noisy socket is admitted again.
    await sleep(Math.max(...refused.map((r) => r.error?.retryAfterMs ?? 0)));
    expect(await call(noisy, 'ping')).toMatchObject({ ok: true });
  });

  it('limits a user across sockets and gateways', async () => {
    const first = await stack.client(a, '/social', await stack.auth('multi'));
    const second = await stack.client(b, '/chat', await stack.auth('multi'));
    const one = await burst(first, 5);
    const two = await burst(second, 5);
    expect(one.ok).toBe(5);
    // The user bucket (8) is shared, so the second socket gets what is left of it.
    expect(two.ok).toBeLessThanOrEqual(4);
    expect(two.refused.length).toBeGreaterThanOrEqual(1);
    expect(two.refused.every((r) => r.error?.code === 'rate_limited')).toBe(true);
  });

  it('disconnects a socket that keeps flooding, and tells it why', async () => {
    const flood = await stack.client(a, '/social', await stack.auth('flood'));
    const reason = new Promise((resolve) => flood.once('disconnect_reason', resolve));
    const closed = new Promise((resolve) => flood.once('disconnect', resolve));
    for (let i = 0; i < 60; i++) flood.emit('ping', {}, () => undefined);
    expect(await reason).toEqual({
      code: 'rate_limited',
      message: 'disconnected: too many refused requests',
    });
    expect(await closed).toBe('io server disconnect');
    const bystander = await stack.client(a, '/social', await stack.auth('bystander'));
    expect(await call(bystander, 'ping')).toMatchObject({ ok: true });
  });

  it('answers an oversized message with payload_too_large and keeps the connection', async () => {
    const chat = await stack.client(a, '/chat', await stack.auth('big'));
    await call(chat, 'join_chat', { chatId: 'big' });
    expect(
      await call(chat, 'new_message', { chatId: 'big', content: 'x'.repeat(2000) }),
    ).toMatchObject({
      ok: false,
      error: { code: 'payload_too_large' },
    });
    expect(chat.connected).toBe(true);
    expect(await call(chat, 'ping')).toMatchObject({ ok: true });
  });

  it('answers an oversized HTTP body with 413 payload_too_large', async () => {
    const res = await stack.post(a, '/api/events', {
      event: 'notification',
      target: { userId: '1' },
      data: { title: 't', body: 'x'.repeat(4000) },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: { code: 'payload_too_large', message: 'request body is too large' },
    });
  });
});

describe('HTTP rate limits', () => {
  // The publish token is a trusted backend: limited only when RATE_PUBLISH_PER_SEC is set.
  const stack = new Stack(
    testConfig({
      RATE_HTTP_BURST: '5',
      RATE_HTTP_PER_SEC: '1',
      RATE_PUBLISH_BURST: '5',
      RATE_PUBLISH_PER_SEC: '1',
    }),
  );
  afterAll(() => stack.close());

  it('limits the publish token (when set) with 429 rate_limited and Retry-After; another caller is unaffected', async () => {
    const gw = await stack.gateway();
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await stack.post(gw, '/api/events', { event: 'no_such_event', data: {} });
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses.filter((s) => s === 404).length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited?.json()).toEqual({
      error: {
        code: 'rate_limited',
        message: expect.any(String) as unknown,
        retryAfterMs: expect.any(Number) as unknown,
      },
    });
    // No token: charged to the IP, a different bucket; refused for the missing token, not the rate.
    const anonymous = await fetch(stack.url(gw, '/api/events'), { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });
});
