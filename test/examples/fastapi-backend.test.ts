/**
 * examples/fastapi-backend: a Python backend (FastAPI, run by uvicorn as a real child process)
 * publishes order_status_changed through the HTTP publish API of a real gateway and worker, and a
 * socket.io-client in the order's room receives it. Each case proves:
 *
 * 1. a status change posted to the FastAPI route arrives on the socket with the route's payload,
 *    and the `meta.id` the route reports;
 * 2. behind a proxy that answers 503 (the gateway's typed `unavailable` body) to the first two
 *    attempts, the example retries under one Idempotency-Key, waits what Retry-After asks, and the
 *    event arrives once; the same change posted again is answered as a replay (same id) and
 *    delivered no second time (the marker published after both arrives next);
 * 3. a refusal (a status the catalog does not have: 400 invalid_payload) is not retried (one
 *    attempt at the proxy) and the FastAPI answer is a 502 carrying the gateway's error code;
 * 4. when the gateway stays unavailable, the retries are bounded and the route answers 503.
 *
 * Needs a python3 with fastapi, uvicorn and httpx (scripts/ensure-python-fastapi.sh: Debian's
 * packages, since PyPI may not be reachable).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import type { EventMeta } from '../../src/catalog';
import type { Gateway } from '../../src/gateway/server';
import { freePort } from '../helpers/redis-server';
import { killChild, ROOT, Stack, testConfig, waitForOutput } from '../helpers/stack';
import { call, nextEvent, recordUntil } from '../helpers/wait';

const APP_DIR = path.join(ROOT, 'examples/fastapi-backend');
const PUBLISH_TOKEN = 'fastapi-example-publish-token';
const KEY_PREFIX = 'fastapi-test';

interface Status {
  orderId: string;
  status: string;
  note?: string;
}

interface RouteAnswer {
  status: number;
  retryAfter: string | null;
  body: {
    orderId: string;
    status?: string;
    event?: { id: string; replayed: boolean; attempts: number; idempotencyKey: string };
    error?: {
      code: string;
      message: string;
      gatewayStatus: number | null;
      attempts: number;
      issues?: Array<{ path: Array<string | number>; message: string }>;
    };
  };
}

/** One request the proxy saw: its Idempotency-Key and when it came. */
interface Attempt {
  key: string | undefined;
  at: number;
}

/**
 * A node:http proxy in front of the gateway: answers 503 with the gateway's `unavailable` body to
 * the next `failures.length` requests (each entry: the Retry-After it sends, or null for none),
 * forwards the rest, and records every request.
 */
interface FlakyProxy {
  port: number;
  attempts: Attempt[];
  failNext(retryAfters: Array<string | null>): void;
  close(): Promise<void>;
}

async function startProxy(gatewayPort: number): Promise<FlakyProxy> {
  const attempts: Attempt[] = [];
  let failures: Array<string | null> = [];
  const server: Server = createServer((req, res) => {
    const header = req.headers['idempotency-key'];
    attempts.push({ key: Array.isArray(header) ? header.join(', ') : header, at: Date.now() });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (failures.length > 0) {
        const retryAfter = failures.shift();
        const body = JSON.stringify({
          error: { code: 'unavailable', message: 'event store did not answer in time' },
        });
        res.writeHead(503, {
          'content-type': 'application/json; charset=utf-8',
          ...(retryAfter == null ? {} : { 'retry-after': retryAfter }),
        });
        res.end(body);
        return;
      }
      const upstream = request(
        {
          host: '127.0.0.1',
          port: gatewayPort,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: `127.0.0.1:${gatewayPort}` },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.once('error', (err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    attempts,
    failNext(retryAfters) {
      failures = [...retryAfters];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Python that imports fastapi, uvicorn and httpx: PYTHON, python3 on PATH, or the system one. */
async function findPython(): Promise<string> {
  for (const candidate of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (!candidate) continue;
    const ok = await new Promise<boolean>((resolve) =>
      execFile(candidate, ['-c', 'import fastapi, uvicorn, httpx'], (err) => resolve(!err)),
    );
    if (ok) return candidate;
  }
  throw new Error(
    'no python3 with fastapi, uvicorn and httpx: run `bash scripts/ensure-python-fastapi.sh`',
  );
}

/** Every uvicorn started, killed by pid in afterAll. */
const apps: ChildProcess[] = [];

interface App {
  port: number;
  child: ChildProcess;
}

/** `python3 -m uvicorn app:app --port <free>` in the example's directory, once it answers. */
async function startApp(python: string, switchboardUrl: string): Promise<App> {
  const port = await freePort();
  const child = spawn(
    python,
    ['-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', String(port)],
    {
      cwd: APP_DIR,
      env: {
        ...process.env,
        SWITCHBOARD_URL: switchboardUrl,
        SWITCHBOARD_PUBLISH_TOKEN: PUBLISH_TOKEN,
        SWITCHBOARD_KEY_PREFIX: KEY_PREFIX,
        SWITCHBOARD_TIMEOUT_S: '3',
        SWITCHBOARD_DEADLINE_S: '10',
        SWITCHBOARD_MAX_ATTEMPTS: '4',
        // Short backoff, so the cases are quick; Retry-After still wins (case 2 checks it).
        SWITCHBOARD_RETRY_BASE_S: '0.05',
        SWITCHBOARD_RETRY_MAX_S: '2',
        PYTHONUNBUFFERED: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  apps.push(child);
  const exited = new Promise<never>((_resolve, reject) =>
    child.once('exit', (code) => reject(new Error(`uvicorn exited (${code}) before answering`))),
  );
  // uvicorn prints this once the socket is bound and startup (the publisher's config) went well.
  await Promise.race([waitForOutput(child, 'Uvicorn running on', 20_000), exited]);
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  expect(health.status).toBe(200);
  return { port, child };
}

const stack = new Stack(testConfig({ PUBLISH_TOKEN }));
let gw: Gateway;
let proxy: FlakyProxy;
let direct: App;
let proxied: App;
let client: Socket;

beforeAll(async () => {
  const python = await findPython();
  gw = await stack.gateway();
  await stack.worker();
  proxy = await startProxy(gw.port);
  [direct, proxied] = await Promise.all([
    startApp(python, `http://127.0.0.1:${gw.port}`),
    startApp(python, `http://127.0.0.1:${proxy.port}`),
  ]);
  // An admin may join any order's room (an owner only their own).
  client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
}, 60_000);

afterAll(async () => {
  for (const child of apps) await killChild(child);
  await proxy.close();
  await stack.close();
});

async function join(orderId: string): Promise<void> {
  expect(await call(client, 'join_order', { orderId })).toMatchObject({ ok: true });
}

/** `POST /orders/:id/status` on an instance of the example. */
async function changeStatus(
  app: App,
  orderId: string,
  body: { status: string; note?: string },
): Promise<RouteAnswer> {
  const res = await fetch(`http://127.0.0.1:${app.port}/orders/${orderId}/status`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as RouteAnswer['body'],
  };
}

/** Records the order's status events until one with note `marker` (published afterwards) arrives. */
function recordUntilMarker(orderId: string) {
  return recordUntil<Status, EventMeta>(
    client,
    'order_status_changed',
    (data) => data.orderId === orderId && data.note === 'marker',
  );
}

/** The marker: a later change of the same order, through the gateway directly. */
async function publishMarker(orderId: string): Promise<void> {
  const res = await stack.post(gw, '/api/events', {
    event: 'order_status_changed',
    data: { orderId, status: 'delivered', note: 'marker' },
  });
  expect(res.status).toBe(202);
}

describe('examples/fastapi-backend', () => {
  it('1. a status change posted to the FastAPI route arrives in the order room', async () => {
    await join('fa-1');
    const arriving = nextEvent<Status, EventMeta>(client, 'order_status_changed', 10_000);

    const answer = await changeStatus(direct, 'fa-1', { status: 'shipped', note: 'on its way' });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      orderId: 'fa-1',
      status: 'shipped',
      event: {
        id: expect.any(String) as string,
        replayed: false,
        attempts: 1,
        idempotencyKey: `${KEY_PREFIX}:order_status:fa-1:shipped`,
      },
    });
    const [data, meta] = await arriving;
    expect(data).toEqual({ orderId: 'fa-1', status: 'shipped', note: 'on its way' });
    expect(meta).toMatchObject({ id: answer.body.event!.id, ns: '/orders', room: 'order:fa-1' });
  });

  it('2. 503s are retried under one Idempotency-Key (Retry-After honoured); the change is delivered once, also when posted twice', async () => {
    await join('fa-2');
    const seen = recordUntilMarker('fa-2');
    proxy.attempts.length = 0;
    proxy.failNext(['1', null]); // the first 503 asks for 1 s, the second says nothing
    const arriving = nextEvent<Status, EventMeta>(client, 'order_status_changed', 10_000);

    const first = await changeStatus(proxied, 'fa-2', { status: 'paid', note: 'card' });

    expect(first.status).toBe(200);
    expect(first.body.event).toMatchObject({ replayed: false, attempts: 3 });
    const key = `${KEY_PREFIX}:order_status:fa-2:paid`;
    expect(proxy.attempts.map((a) => a.key)).toEqual([key, key, key]);
    // Retry-After: 1 is waited for (the backoff alone stays under 0.1 s here).
    expect(proxy.attempts[1]!.at - proxy.attempts[0]!.at).toBeGreaterThanOrEqual(950);
    const [data, meta] = await arriving;
    expect([data, meta.id]).toEqual([
      { orderId: 'fa-2', status: 'paid', note: 'card' },
      first.body.event!.id,
    ]);

    // The caller retries the same change: same key, answered as a replay, nothing published.
    const again = await changeStatus(proxied, 'fa-2', { status: 'paid', note: 'card' });
    expect(again.status).toBe(200);
    expect(again.body.event).toEqual({
      id: first.body.event!.id,
      replayed: true,
      attempts: 1,
      idempotencyKey: key,
    });
    expect(proxy.attempts.map((a) => a.key)).toEqual([key, key, key, key]);

    // Everything published before the marker has been delivered once the marker is in.
    await publishMarker('fa-2');
    await seen.barrier();
    expect(seen).toEqual([
      [{ orderId: 'fa-2', status: 'paid', note: 'card' }, expect.objectContaining({ id: meta.id })],
    ]);
  });

  it("3. a 4xx from the gateway is not retried and the route answers 502 with the gateway's error code", async () => {
    await join('fa-3');
    const seen = recordUntilMarker('fa-3');
    proxy.attempts.length = 0;

    const answer = await changeStatus(proxied, 'fa-3', { status: 'teleported' });

    expect(answer.status).toBe(502);
    expect(answer.body.error).toMatchObject({
      code: 'invalid_payload',
      gatewayStatus: 400,
      attempts: 1,
    });
    expect(answer.body.error!.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: ['status'] })]),
    );
    expect(proxy.attempts).toHaveLength(1);

    await publishMarker('fa-3');
    await seen.barrier();
    expect(seen).toEqual([]);
  });

  it('4. a gateway that stays unavailable gets a bounded number of attempts, and the route answers 503', async () => {
    await join('fa-4');
    const seen = recordUntilMarker('fa-4');
    proxy.attempts.length = 0;
    proxy.failNext(Array<null>(10).fill(null));

    const answer = await changeStatus(proxied, 'fa-4', { status: 'cancelled' });
    proxy.failNext([]);

    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toBe('1');
    expect(answer.body.error).toMatchObject({
      code: 'unavailable',
      gatewayStatus: 503,
      attempts: 4,
    });
    const key = `${KEY_PREFIX}:order_status:fa-4:cancelled`;
    expect(proxy.attempts.map((a) => a.key)).toEqual([key, key, key, key]);

    await publishMarker('fa-4');
    await seen.barrier();
    expect(seen).toEqual([]);
  });
});
