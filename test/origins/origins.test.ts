/**
 * Which browser origins may open a socket or call the HTTP API (originPolicy in src/origins/origin-policy.ts,
 * shared by socket.io's allowRequest and the API's cors middleware). Each case proves:
 *
 * 1. same origin: a handshake whose Origin names the Host it was sent to connects with the default
 *    (empty) CORS_ORIGINS, in development and in production (a page served by the gateway itself);
 * 2. local dev servers: http://localhost:5173 connects by default outside production, is refused in
 *    production (with a hint that local origins are dev-only), and connects in production once it
 *    is listed in CORS_ORIGINS;
 * 3. a foreign origin is refused and told why: the polling handshake answers 403 JSON and the
 *    websocket upgrade 400 with the explanation (the origin and the setting that admits it), the
 *    Node client sees a `connect_error`, and the gateway process (a real child) logs one warn line
 *    with the same text;
 * 4. the HTTP API follows the same rule: a foreign preflight gets 403 with the explanation in JSON,
 *    localhost:5173 gets 204 with Access-Control-Allow-Origin in development;
 * 5. python-socketio (whose websocket client sends the gateway's URL as Origin) connects to /orders
 *    with a token, joins an order with an ack and receives an order_status_changed event from a
 *    worker: a non-browser client that sends an Origin works with the default settings, and in
 *    production too (where the local-origin rule is off, so same-origin alone admits it);
 * 6. the origin check did not replace the other refusal: while the adapter subscriber is down, even
 *    a same-origin handshake is refused with `adapter subscriber unavailable`.
 */
import { execFile, spawn } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { refusalLine } from '../../src/origins/origin-policy';
import type { Gateway } from '../../src/gateway/server';
import { ROOT, Stack, testConfig } from '../helpers/stack';
import { logLines } from '../helpers/log-lines';

const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'origins-test-secret-0123456789abcdef',
  PUBLISH_TOKEN: 'origins-test-publish-token',
};
const FOREIGN = 'https://evil.example';
const DEV_SERVER = 'http://localhost:5173';
const WHY_FOREIGN = `origin ${FOREIGN} is not allowed: add it to CORS_ORIGINS (comma-separated), or serve the page from this gateway`;

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

/** A stack closed after the test that made it. */
function stackWith(env: Record<string, string> = {}): Stack {
  const stack = new Stack(testConfig(env));
  stacks.push(stack);
  return stack;
}

type Outcome = { connected: true } | { connected: false; error: Error & { description?: unknown } };

/** Opens a websocket socket.io connection to /orders presenting `origin`, and reports whether it connected. */
async function handshake(stack: Stack, port: number, origin: string): Promise<Outcome> {
  const socket: Socket = io(`http://127.0.0.1:${port}/orders`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: await stack.auth('origin-user'),
    extraHeaders: { origin },
  });
  stack.sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ connected: true }));
    socket.once('connect_error', (error) => resolve({ connected: false, error }));
  });
}

/** A raw engine.io polling handshake with an Origin header: status and body (what a refused client gets). */
async function pollingHandshake(
  port: number,
  origin: string,
): Promise<{ status: number; body: unknown; allowOrigin: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`, {
    headers: { origin },
  });
  const text = await res.text();
  return {
    status: res.status,
    body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    allowOrigin: res.headers.get('access-control-allow-origin'),
  };
}

/** A raw websocket upgrade request with an Origin header: a refusal is a plain HTTP answer. */
function websocketUpgrade(port: number, origin: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/socket.io/?EIO=4&transport=websocket',
      headers: {
        origin,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.once('upgrade', (_res, socket) => {
      socket.destroy();
      resolve({ status: 101, body: '' });
    });
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

function preflight(gw: Gateway, origin: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${gw.port}/api/events`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
}

/** The Python that imports python-socketio: PYTHON, python3 on PATH, or the system one (Debian's packages). */
async function findPython(): Promise<string> {
  for (const candidate of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (!candidate) continue;
    const ok = await new Promise<boolean>((resolve) =>
      execFile(candidate, ['-c', 'import socketio, websocket'], (err) => resolve(!err)),
    );
    if (ok) return candidate;
  }
  throw new Error(
    'no python3 with python-socketio and websocket-client: run `bash scripts/ensure-python-socketio.sh`',
  );
}

describe('handshake and API origins', () => {
  it('1. a same-origin handshake connects with the default CORS_ORIGINS, in development and in production', async () => {
    for (const env of [{}, PRODUCTION]) {
      const stack = stackWith(env);
      const gw = await stack.gateway();
      // Host is 127.0.0.1:<port>; so is the Origin's host and port.
      expect(await handshake(stack, gw.port, `http://127.0.0.1:${gw.port}`)).toEqual({
        connected: true,
      });
      // Another port of the same host is another origin: not same-origin (and refused in production).
      if (env === PRODUCTION)
        expect((await handshake(stack, gw.port, `http://127.0.0.1:${gw.port + 1}`)).connected).toBe(
          false,
        );
    }
  });

  it('2. http://localhost:5173 connects in development, is refused in production, connects in production when listed', async () => {
    const dev = stackWith();
    const devGw = await dev.gateway();
    expect(await handshake(dev, devGw.port, DEV_SERVER)).toEqual({ connected: true });
    expect(await handshake(dev, devGw.port, 'http://[::1]:3000')).toEqual({ connected: true });

    const prod = stackWith(PRODUCTION);
    const prodGw = await prod.gateway();
    expect((await handshake(prod, prodGw.port, DEV_SERVER)).connected).toBe(false);
    expect(await pollingHandshake(prodGw.port, DEV_SERVER)).toEqual({
      status: 403,
      allowOrigin: null,
      body: {
        code: 4,
        message: `origin ${DEV_SERVER} is not allowed: add it to CORS_ORIGINS (comma-separated), or serve the page from this gateway (local origins are allowed without it only when NODE_ENV is not production)`,
      },
    });

    const listed = stackWith({ ...PRODUCTION, CORS_ORIGINS: `https://app.example, ${DEV_SERVER}` });
    const listedGw = await listed.gateway();
    expect(await handshake(listed, listedGw.port, DEV_SERVER)).toEqual({ connected: true });
    // Polling handshakes of a listed origin get CORS headers by the same rule.
    const polled = await pollingHandshake(listedGw.port, DEV_SERVER);
    expect(polled.status).toBe(200);
    expect(polled.allowOrigin).toBe(DEV_SERVER);
  });

  it('3. a foreign origin is refused with the reason: in the HTTP answer, as a connect_error, and in one warn log line', async () => {
    const stack = stackWith();
    // A real gateway process, so its pino output can be read.
    const child = stack.spawnTs('src/app/gateway-main.ts');
    const out = logLines(child);
    const ready = await out.next((l) => l.msg === 'gateway ready');
    const port = ready.port as number;

    // socket.io-client (Node, websocket) only learns that the upgrade failed with a 400.
    const refused = await handshake(stack, port, FOREIGN);
    expect(refused.connected).toBe(false);
    if (refused.connected) return;
    expect(refused.error.message).toBe('websocket error');
    expect(String((refused.error.description as Error | undefined)?.message)).toContain('400');
    // The answers themselves carry the explanation: polling 403 JSON, websocket upgrade 400 text.
    expect(await pollingHandshake(port, FOREIGN)).toEqual({
      status: 403,
      allowOrigin: null,
      body: { code: 4, message: WHY_FOREIGN },
    });
    expect(await websocketUpgrade(port, FOREIGN)).toEqual({ status: 400, body: WHY_FOREIGN });

    const logged = await out.next(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('socket handshake refused'),
    );
    expect(logged).toMatchObject({
      level: 40,
      scope: 'cors',
      origin: FOREIGN,
      host: `127.0.0.1:${port}`,
    });
    expect(logged.msg).toBe(refusalLine('socket handshake', { allowed: false, why: WHY_FOREIGN }));
    expect(logged.msg).toBe(`socket handshake refused: ${WHY_FOREIGN}`);

    // A long origin is cut in the answer.
    const long = `https://${'a'.repeat(300)}.example`;
    const { body } = await pollingHandshake(port, long);
    expect((body as { message: string }).message).toContain(
      `origin ${long.slice(0, 200)}… is not allowed`,
    );

    // Refusal lines are sampled (at most one per 10 s): the four refusals above wrote one. Counted
    // once the gateway has stopped, so no line can still be on its way.
    child.kill('SIGTERM');
    await out.next((l) => l.msg === 'gateway stopped');
    expect(
      out.seen.filter((l) => typeof l.msg === 'string' && l.msg.includes(' refused: ')),
    ).toHaveLength(1);
  });

  it('4. the HTTP API: a foreign preflight gets 403 with the reason; localhost:5173 gets 204 with Access-Control-Allow-Origin', async () => {
    const stack = stackWith();
    const gw = await stack.gateway();
    const refused = await preflight(gw, FOREIGN);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(await refused.json()).toEqual({
      error: { code: 'origin_not_allowed', message: WHY_FOREIGN },
    });

    const allowed = await preflight(gw, DEV_SERVER);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(DEV_SERVER);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');

    // Same origin works on the API too, and a real call from an allowed origin gets the header.
    expect((await preflight(gw, `http://127.0.0.1:${gw.port}`)).status).toBe(204);
    const call = await fetch(stack.url(gw, '/healthz'), { headers: { origin: DEV_SERVER } });
    expect(call.headers.get('access-control-allow-origin')).toBe(DEV_SERVER);
  });

  it.each([
    ['development (the default)', {}],
    ['production, where only the same-origin rule admits it', PRODUCTION],
  ])(
    '5. python-socketio joins an order over websocket (sending an Origin) and receives order_status_changed: %s',
    async (_name, env) => {
      const python = await findPython();
      const stack = stackWith(env);
      const gw = await stack.gateway();
      await stack.worker();
      const child = spawn(
        python,
        [
          path.join(ROOT, 'test/fixtures/python/orders_client.py'),
          `http://127.0.0.1:${gw.port}`,
          'py-1',
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            SB_TOKEN: await stack.token('py-user', ['admin']),
            SB_TIMEOUT_S: '20',
            PYTHONUNBUFFERED: '1',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      stack.children.push(child); // killed by pid in stack.close() if still running
      const out = logLines(child);

      const joined = await out.next((l) => 'joined' in l || 'error' in l);
      expect(joined).toEqual({
        joined: { ok: true, data: { room: 'order:py-1', offset: '0-0' } },
      });
      const accepted = await gw.runtime.events.emitToOrder('order_status_changed', 'py-1', {
        orderId: 'py-1',
        status: 'shipped',
        note: 'from the test',
      });

      expect(await out.exited).toBe(0);
      const received = out.seen.find((l) => l.event === 'order_status_changed');
      expect(received).toMatchObject({
        data: { orderId: 'py-1', status: 'shipped', note: 'from the test' },
        meta: { id: accepted.id, ns: '/orders', room: 'order:py-1' },
      });
      expect(out.seen.filter((l) => 'error' in l)).toEqual([]);
    },
  );

  it('6. while the adapter subscriber is down, handshakes are still refused (before any origin check)', async () => {
    const stack = stackWith();
    const gw = await stack.gateway();
    const sameOrigin = `http://127.0.0.1:${gw.port}`;
    expect(await handshake(stack, gw.port, sameOrigin)).toEqual({ connected: true });
    // The adapter's own subscriber connection, dropped without reconnecting until the test says so.
    const sub = (gw.io.of('/orders').adapter as unknown as { subClient: import('ioredis').Redis })
      .subClient;
    const closed = new Promise((resolve) => sub.once('close', resolve));
    sub.disconnect();
    await closed;
    try {
      expect(await pollingHandshake(gw.port, sameOrigin)).toEqual({
        status: 403,
        allowOrigin: sameOrigin,
        body: { code: 4, message: 'adapter subscriber unavailable' },
      });
      expect(await websocketUpgrade(gw.port, sameOrigin)).toEqual({
        status: 400,
        body: 'adapter subscriber unavailable',
      });
      expect((await handshake(stack, gw.port, sameOrigin)).connected).toBe(false);
    } finally {
      // Back, so the gateway closes as usual.
      await sub.connect();
    }
  });
});
