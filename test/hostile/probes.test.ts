import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { loadConfig } from '../../src/config';
import { SINCE_JOIN_COST } from '../../src/gateway/event-guard';
import { logLines } from '../helpers/log-lines';
import { Stack, testConfig } from '../helpers/stack';
import { call, record, until } from '../helpers/wait';

/**
 * The probes of an attacker and a careless integrator, each in the production configuration
 * (NODE_ENV=production, secrets of their own, ADMIN_TOKEN set), each bounded and on loopback.
 */

const secret = () => randomBytes(24).toString('base64url');
const production = (overrides: Record<string, string> = {}) =>
  testConfig({
    NODE_ENV: 'production',
    JWT_SECRET: secret(),
    PUBLISH_TOKEN: secret(),
    ADMIN_TOKEN: secret(),
    ...overrides,
  });

interface Ack {
  ok: boolean;
  data?: { room?: string; recovered?: number };
  error?: { code: string; retryAfterMs?: number };
}

describe('hostile probes, production configuration', () => {
  const stacks: Stack[] = [];
  const open = (overrides: Record<string, string> = {}) => {
    const stack = new Stack(production(overrides));
    stacks.push(stack);
    return stack;
  };
  afterAll(async () => {
    for (const s of stacks) await s.close();
  });

  it('1. guessing tokens: a fresh random bearer per request is charged to the address and stops at the burst, login form included; a verified token keeps its own bucket', async () => {
    const stack = open({ RATE_HTTP_BURST: '20', RATE_HTTP_PER_SEC: '1' });
    const gw = await stack.gateway();
    const guess = () =>
      fetch(stack.url(gw, '/admin/throttle'), {
        headers: { authorization: `Bearer ${randomBytes(24).toString('base64url')}` },
      }).then((r) => r.status);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push(await guess());
    // 20 of burst, and at most a token or two refilled while the 40 ran.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(22);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(18);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    // The login form reads the password from the body: any bearer header beside it is the same bucket.
    const login = await fetch(stack.url(gw, '/admin/login'), {
      method: 'POST',
      headers: { authorization: `Bearer ${secret()}` },
      body: new URLSearchParams({ password: secret(), next: '/admin/queues/' }),
    });
    expect(login.status).toBe(429);
    // The guesses wrote one bucket key (the address's), not one per guess.
    const buckets = await gw.runtime.redis.keys(`${stack.config.KEY_PREFIX}:rate:http:*`);
    expect(buckets).toHaveLength(1);
    // The admin token, verified, has a bucket of its own; the publish token on /api none.
    const admin = await fetch(stack.url(gw, '/admin/throttle'), {
      headers: { authorization: `Bearer ${stack.config.ADMIN_TOKEN}` },
    });
    expect(admin.status).toBe(200);
    expect(
      (
        await stack.post(gw, '/api/events', {
          event: 'order_status_changed',
          data: { orderId: 'g1', status: 'paid' },
        })
      ).status,
    ).toBe(202);
  });

  it('2. a join with since replays a long, heavy history in pages, every event once and in order, and costs more of the socket bucket than a plain join', async () => {
    const stack = open();
    const gw = await stack.gateway();
    await stack.worker();
    const orderId = 'replay-1';
    const admin = await stack.auth('ops', ['admin']);
    const watcher = await stack.client(gw, '/orders', admin);
    expect((await call<Ack>(watcher, 'join_order', { orderId })).ok).toBe(true);
    const seen = record<{ note: string }, { offset: string }>(watcher, 'order_status_changed');
    const note = 'x'.repeat(400);
    const total = 400;
    const batch = Array.from({ length: total }, (_, i) => ({
      event: 'order_status_changed',
      data: { orderId, status: 'preparing', note: `${i}|${note}` },
    }));
    expect((await stack.post(gw, '/api/events/batch', { events: batch })).status).toBe(200);
    await until(() => seen.length === total, 20_000, 'the watcher has every event');
    const first = seen[0]![1].offset;

    // 10 sockets re-join from the first offset at once.
    const sockets = await Promise.all(
      Array.from({ length: 10 }, () => stack.client(gw, '/orders', admin)),
    );
    const replays = sockets.map((s) =>
      record<{ note: string }, { recovered?: boolean }>(s, 'order_status_changed'),
    );
    const acks = await Promise.all(
      sockets.map((s) => call<Ack>(s, 'join_order', { orderId, since: first })),
    );
    expect(acks.map((a) => a.data?.recovered)).toEqual(sockets.map(() => total - 1));
    for (const replay of replays) {
      expect(replay.map(([d]) => Number(d.note.split('|')[0]))).toEqual(
        Array.from({ length: total - 1 }, (_, i) => i + 1),
      );
      expect(replay.every(([, m]) => m.recovered === true)).toBe(true);
    }

    // The socket bucket (burst 30): a join with since takes SINCE_JOIN_COST tokens, a plain join one.
    const costly = await stack.client(gw, '/orders', admin);
    const sinceAcks: Ack[] = [];
    for (let i = 0; i < 10; i++)
      sinceAcks.push(await call<Ack>(costly, 'join_order', { orderId, since: first }));
    const allowed = sinceAcks.filter((a) => a.ok).length;
    expect(allowed).toBeLessThanOrEqual(
      Math.ceil(stack.config.RATE_SOCKET_BURST / SINCE_JOIN_COST) + 1,
    );
    expect(sinceAcks.find((a) => !a.ok)?.error).toMatchObject({
      code: 'rate_limited',
      retryAfterMs: expect.any(Number) as unknown,
    });
    const plain = await stack.client(gw, '/orders', admin);
    const plainAcks = await Promise.all(
      Array.from({ length: 10 }, () => call<Ack>(plain, 'join_order', { orderId })),
    );
    expect(plainAcks.every((a) => a.ok)).toBe(true);
  }, 60_000);

  it('3. a member list removes the sockets of non-members already in the chat, on every gateway, and new_message checks membership', async () => {
    const stack = open();
    const [a, b] = [await stack.gateway(), await stack.gateway()];
    await stack.worker();
    const chatId = 'closed-1';
    const member = await stack.client(a, '/chat', await stack.auth('m1'));
    const outsider = await stack.client(b, '/chat', await stack.auth('intruder'));
    for (const s of [member, outsider])
      expect((await call<Ack>(s, 'join_chat', { chatId })).ok).toBe(true);
    // The outsider also sits in an open chat: a message there, sent after, is its barrier.
    expect((await call<Ack>(outsider, 'join_chat', { chatId: 'open-1' })).ok).toBe(true);
    const memberGot = record<{ content: string }>(member, 'new_message');
    const outsiderGot = record<{ content: string; chatId: string }>(outsider, 'new_message');

    const put = await stack.post(a, `/api/chats/${chatId}/members`, { userIds: ['m1'] }, 'PUT');
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ members: 1, removed: 1 });
    expect(
      (await stack.post(a, `/api/chats/${chatId}/messages`, { content: 'members only' })).status,
    ).toBe(202);
    expect((await stack.post(a, '/api/chats/open-1/messages', { content: 'barrier' })).status).toBe(
      202,
    );
    await until(
      () => memberGot.length === 1 && outsiderGot.length === 1,
      10_000,
      'the member got the message, the outsider the barrier',
    );
    expect(outsiderGot.map(([d]) => d.content)).toEqual(['barrier']);
    // Out of the room, it cannot post there either.
    expect(
      (await call<Ack>(outsider, 'new_message', { chatId, content: 'let me in' })).error?.code,
    ).toBe('not_joined');
    // And one in the room whose membership is gone (the list written behind the gateways' back) is refused on post.
    const members = a.runtime.keys.chatMembers(chatId);
    await a.runtime.redis.multi().srem(members, 'm1').sadd(members, 'someone-else').exec();
    expect(
      (await call<Ack>(member, 'new_message', { chatId, content: 'still here?' })).error?.code,
    ).toBe('forbidden');
  });

  it('4. the main namespace / refuses every connection, with a token or without; a bare connection that joins nothing is closed by the gateway', async () => {
    const stack = open();
    const gw = await stack.gateway();
    const token = await stack.token('u1');
    for (const auth of [{}, { token }]) {
      const socket: Socket = io(`http://127.0.0.1:${gw.port}/`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        auth,
      });
      stack.sockets.push(socket);
      const error = await new Promise<Error & { data?: { code?: string } }>((resolve) =>
        socket.once('connect_error', resolve),
      );
      expect(error.data?.code).toBe('not_found');
      expect(socket.connected).toBe(false);
    }
    expect(gw.io.of('/').sockets.size).toBe(0);
    // A client that opens the engine.io connection and never asks for a namespace (as a flood of
    // held-open connections does) is closed by the gateway after its connectTimeout (10 s).
    const bare = await rawEngineConnection(gw.port);
    const t0 = Date.now();
    await bare.closed;
    const heldMs = Date.now() - t0;
    expect(heldMs).toBeLessThan(30_000); // well before engine.io's ping timeout (45 s) would have
    process.stdout.write(`bare engine connection closed by the gateway after ${heldMs} ms\n`);
  }, 40_000);

  it('5. a batch item nested 5,000 deep is its own invalid_payload (never internal); the other items are accepted', async () => {
    const stack = open();
    const gw = await stack.gateway();
    const good = { event: 'order_status_changed', data: { orderId: 'deep-1', status: 'paid' } };
    // Written by hand: JSON.stringify itself overflows the stack at this depth.
    const deepJson = `{"event":"order_status_changed","data":{"orderId":"deep-1","status":"paid","note":${'{"a":'.repeat(5000)}"leaf"${'}'.repeat(5000)}}}`;
    const body = `{"events":[${[deepJson, JSON.stringify(good), ...Array.from({ length: 50 }, () => deepJson)].join(',')}]}`;
    const res = await fetch(stack.url(gw, '/api/events/batch'), {
      method: 'POST',
      headers: stack.apiHeaders(),
      body,
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      accepted: number;
      rejected: number;
      results: Array<{ id?: string; error?: { code: string } }>;
    };
    expect({ accepted: answer.accepted, rejected: answer.rejected }).toEqual({
      accepted: 1,
      rejected: 51,
    });
    expect(answer.results[1]?.id).toEqual(expect.any(String));
    expect(new Set(answer.results.filter((r) => r.error).map((r) => r.error?.code))).toEqual(
      new Set(['invalid_payload']),
    );
  });

  it('6. a flood of refused origins writes one warn line, not one each', async () => {
    const stack = open();
    const child = stack.spawnTs('src/app/gateway-main.ts', { LOG_LEVEL: 'info' });
    const out = logLines(child);
    const ready = await out.next((l) => l.msg === 'gateway ready');
    const port = ready.port as number;
    const statuses = await Promise.all(
      Array.from({ length: 300 }, () =>
        fetch(`http://127.0.0.1:${port}/api/events`, {
          method: 'OPTIONS',
          headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
        }).then((r) => r.status),
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([403]));
    child.kill('SIGTERM');
    await out.next((l) => l.msg === 'gateway stopped');
    expect(
      out.seen.filter(
        (l) => typeof l.msg === 'string' && l.msg.startsWith('API preflight refused'),
      ),
    ).toHaveLength(1);
  });

  it('7. outside production a gateway binds loopback unless HOST says otherwise; production binds every interface', () => {
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
    expect(loadConfig({}).METRICS_HOST).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    const prod = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: secret() + secret(),
      PUBLISH_TOKEN: secret(),
    });
    expect([prod.HOST, prod.METRICS_HOST]).toEqual(['0.0.0.0', '0.0.0.0']);
  });

  it('8. production refuses a placeholder, a low-entropy value and one value for two secrets, naming the variable and never the value', () => {
    const good = {
      NODE_ENV: 'production',
      JWT_SECRET: secret() + secret(),
      PUBLISH_TOKEN: secret(),
      ADMIN_TOKEN: secret(),
    };
    expect(loadConfig(good).NODE_ENV).toBe('production');
    const refusal = (env: Record<string, string>) => {
      try {
        loadConfig({ ...good, ...env });
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    const weak: Record<string, string>[] = [
      { JWT_SECRET: 'a'.repeat(32) },
      { ADMIN_TOKEN: 'change-me-to-16-chars-or-more' },
      { PUBLISH_TOKEN: 'hunter2hunter2hunter2' },
      { ADMIN_TOKEN: good.PUBLISH_TOKEN },
    ];
    const messages = weak.map(refusal);
    expect(messages[0]).toMatch(/^invalid configuration: JWT_SECRET: has too little entropy/);
    expect(messages[1]).toMatch(/^invalid configuration: ADMIN_TOKEN: is a published placeholder/);
    expect(messages[2]).toMatch(/^invalid configuration: PUBLISH_TOKEN: has too little entropy/);
    expect(messages[3]).toMatch(
      /^invalid configuration: ADMIN_TOKEN: must differ from PUBLISH_TOKEN/,
    );
    weak.forEach((env, i) => {
      for (const value of Object.values(env)) expect(messages[i]).not.toContain(value);
    });
    // Outside production the development defaults and short test values still run.
    expect(loadConfig({ JWT_SECRET: 'a'.repeat(32) }).JWT_SECRET).toHaveLength(32);
  });

  it('9. a bad JWT_PUBLIC_KEY is a config error naming the variable, not an OpenSSL message', () => {
    const key = `-----BEGIN PUBLIC KEY-----\\n${secret()}\\n-----END PUBLIC KEY-----`;
    expect(() => loadConfig({ JWT_ALG: 'RS256', JWT_PUBLIC_KEY: key })).toThrow(
      /^invalid configuration: JWT_PUBLIC_KEY: is not a PEM public key/,
    );
    try {
      loadConfig({ JWT_ALG: 'RS256', JWT_PUBLIC_KEY: key });
    } catch (err) {
      expect((err as Error).message).not.toMatch(/DECODER|asn1|error:/i);
      expect((err as Error).message).not.toContain(key);
    }
  });

  it('10. DNS rebinding: a page whose name resolves here (Origin and Host both that name) is refused unless PUBLIC_HOSTS lists it; IP and localhost hosts stay same-origin', async () => {
    const refused = await open().gateway();
    const listed = await open({ PUBLIC_HOSTS: 'rt.example.com' }).gateway();
    const handshake = (port: number, host: string) => pollingOpen(port, `http://${host}`, host);
    expect(await handshake(refused.port, `evil.example:${refused.port}`)).toBe(403);
    expect(await handshake(refused.port, `rt.example.com:${refused.port}`)).toBe(403);
    expect(await handshake(listed.port, `rt.example.com:${listed.port}`)).toBe(200);
    expect(await handshake(listed.port, `evil.example:${listed.port}`)).toBe(403);
    expect(await handshake(refused.port, `127.0.0.1:${refused.port}`)).toBe(200);
    expect(await handshake(refused.port, `localhost:${refused.port}`)).toBe(200);
  });

  it('11. presence is never shown to anonymous sockets, and PRESENCE_ROLE limits it to a role', async () => {
    const anonymous = open({ AUTH_MODE: 'anonymous' });
    const gw = await anonymous.gateway();
    const member = await anonymous.client(gw, '/social', await anonymous.auth('reader-1'));
    expect((await call<Ack>(member, 'join_post', { postId: 'p1' })).ok).toBe(true);
    const stranger = await anonymous.client(gw, '/social', {});
    expect((await call<Ack>(stranger, 'join_post', { postId: 'p1' })).ok).toBe(true); // a public room
    expect((await call<Ack>(stranger, 'get_presence', { room: 'post:p1' })).error?.code).toBe(
      'forbidden',
    );
    expect(
      await call<{ ok: boolean; data?: { users: string[] } }>(member, 'get_presence', {
        room: 'post:p1',
      }),
    ).toEqual({
      ok: true,
      data: { room: 'post:p1', users: ['reader-1'] },
    });

    const roles = open({ PRESENCE_ROLE: 'ops' });
    const rgw = await roles.gateway();
    const plain = await roles.client(rgw, '/notification', await roles.auth('plain-1'));
    const ops = await roles.client(rgw, '/notification', await roles.auth('ops-1', ['ops']));
    expect((await call<Ack>(plain, 'get_online', {})).error?.code).toBe('forbidden');
    expect((await call<Ack>(plain, 'join_presence', {})).error?.code).toBe('forbidden');
    expect((await call<Ack>(ops, 'join_presence', {})).ok).toBe(true);
    const online = await call<{ ok: boolean; data?: { users: string[] } }>(ops, 'get_online', {});
    expect(online.ok).toBe(true);
    expect(online.data?.users).toEqual(expect.arrayContaining(['plain-1', 'ops-1']));
  });
});

/** The status of an engine.io polling handshake sent with this Origin and Host header. */
function pollingOpen(port: number, origin: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/socket.io/?EIO=4&transport=polling',
        headers: { origin, host },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A websocket engine.io connection opened by hand (what socket.io-client does before it asks for a
 * namespace), that then asks for none. `closed` resolves when the gateway closes it.
 */
function rawEngineConnection(port: number): Promise<{ closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/socket.io/?EIO=4&transport=websocket',
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    req.once('upgrade', (_res, socket) => {
      // The gateway's frames, unmasked: the engine's open packet, pings, and at the end a close
      // frame (opcode 8). Its TCP close would come up to 30 s later (ws waits for our close frame).
      let buffered = Buffer.alloc(0);
      const closed = new Promise<void>((done) => {
        socket.once('close', () => done());
        socket.on('data', (chunk: Buffer) => {
          buffered = Buffer.concat([buffered, chunk]);
          while (buffered.length >= 2) {
            const short = (buffered[1] as number) & 0x7f;
            const header = short === 126 ? 4 : short === 127 ? 10 : 2;
            if (buffered.length < header) return;
            const length =
              short === 126
                ? buffered.readUInt16BE(2)
                : short === 127
                  ? Number(buffered.readBigUInt64BE(2))
                  : short;
            if (buffered.length < header + length) return;
            if (((buffered[0] as number) & 0x0f) === 8) {
              socket.destroy();
              done();
              return;
            }
            buffered = buffered.subarray(header + length);
          }
        });
      });
      resolve({ closed });
    });
    req.once('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
    req.once('error', reject);
    req.end();
  });
}
