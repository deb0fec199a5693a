import type { Gateway } from '../../src/gateway/server';
import { Stack } from '../helpers/stack';
import { call } from '../helpers/wait';
import { nested } from './arbitraries';

describe('hostile frames', () => {
  const stack = new Stack();
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
  });
  afterAll(() => stack.close());

  it('answers very deep nesting with a typed error on sockets and HTTP', async () => {
    const socket = await stack.client(gw, '/social');
    // As deep as socket.io-client itself can serialize.
    for (const deep of [nested(1500, true), nested(1500, false), { postId: nested(1500, false) }]) {
      expect(await call(socket, 'join_post', deep)).toMatchObject({
        ok: false,
        error: { code: 'invalid_payload' },
      });
    }
    expect(await call(socket, 'ping')).toMatchObject({ ok: true });
    // Deeper still, as raw text no client library produces: 30,000 levels (60 KB, under
    // MAX_PAYLOAD_BYTES). HTTP answers a typed error; socket.io's parser may refuse such a frame as
    // "invalid packet format" and close that one connection, and nobody else notices.
    const raw = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
    const res = await fetch(stack.url(gw, '/api/events'), {
      method: 'POST',
      headers: stack.apiHeaders(),
      body: `{"event":"notification","data":${raw}}`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: expect.stringMatching(/^invalid_/) as unknown },
    });
    const bystander = await stack.client(gw, '/social');
    const attacker = await stack.client(gw, '/social');
    (attacker.io as unknown as { engine: { write(msg: string): void } }).engine.write(
      `42/social,["join_post",${raw}]`,
    );
    const answer = await call(attacker, 'ping').catch((err: unknown) => ({
      closed: err instanceof Error ? err.message : String(err),
      connected: attacker.connected,
    }));
    expect([
      { ok: true, data: { pong: expect.any(Number) as unknown } },
      { closed: expect.any(String) as unknown, connected: false },
    ]).toContainEqual(answer);
    expect(await call(bystander, 'ping')).toMatchObject({ ok: true });
    expect((await fetch(stack.url(gw, '/healthz'))).status).toBe(200);
  });

  it('closes only the connection that sends a frame over the transport cap (4x MAX_PAYLOAD_BYTES)', async () => {
    const bystander = await stack.client(gw, '/social');
    const attacker = await stack.client(gw, '/social');
    const closed = new Promise((resolve) => attacker.once('disconnect', resolve));
    attacker.emit('join_post', { postId: 'x'.repeat(stack.config.MAX_PAYLOAD_BYTES * 4 + 1) });
    expect(await closed).toBe('transport close');
    expect(await call(bystander, 'ping')).toMatchObject({ ok: true });
  });

  it('refuses the API without the service token, and ADMIN_TOKEN is not a service token', async () => {
    const admin = 'an-admin-token-of-enough-length';
    const local = new Stack({ ...stack.config, ADMIN_TOKEN: admin });
    const g = await local.gateway();
    try {
      for (const authorization of [
        undefined,
        `Bearer ${admin}`,
        'Bearer wrong-token-wrong-token',
        `Basic ${stack.config.PUBLISH_TOKEN}`,
      ]) {
        const res = await fetch(local.url(g, '/api/posts/1/like'), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(authorization ? { authorization } : {}),
          },
          body: JSON.stringify({ userId: 'u' }),
        });
        expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 });
      }
      expect((await local.post(g, '/api/posts/1/like', { userId: 'u' })).status).toBe(202);
    } finally {
      await g.close();
    }
  });
});
