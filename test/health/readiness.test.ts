import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import type { Gateway } from '../../src/gateway/server';
import type { Readiness } from '../../src/health/readiness';
import { TestRedisServer } from '../helpers/redis-server';
import { Stack, testConfig } from '../helpers/stack';
import { until } from '../helpers/wait';

/**
 * /readyz proves the gateway's path: Redis answers its commands, and its adapter subscriber
 * receives (a probe published on its own channel comes back). On a private redis-server, so
 * killing connections and lowering maxclients touches nothing of other tests.
 */
describe('gateway readiness (/readyz)', () => {
  let server: TestRedisServer;
  let admin: Redis;
  let stack: Stack;
  let gw: Gateway;

  const readyz = async (): Promise<{ status: number; body: Readiness }> => {
    const res = await fetch(stack.url(gw, '/readyz'));
    return { status: res.status, body: (await res.json()) as Readiness };
  };
  /** Polls /readyz (bounded) until it answers `status`, and returns that answer. */
  const readyzUntil = async (status: number, timeoutMs = 15_000) => {
    let last: { status: number; body: Readiness } | undefined;
    await until(
      async () => (last = await readyz()).status === status,
      timeoutMs,
      `/readyz ${status} (last: ${JSON.stringify(last)})`,
    );
    return last!;
  };
  /** Whether a websocket handshake to /orders is admitted now. */
  const handshake = async (): Promise<boolean> => {
    const socket = io(stack.url(gw, '/orders'), {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: await stack.auth('ready-user'),
    });
    try {
      return await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('connect_error', () => resolve(false));
      });
    } finally {
      socket.disconnect();
    }
  };

  beforeAll(async () => {
    server = await TestRedisServer.start();
    admin = new Redis(server.url);
    stack = new Stack(testConfig({ REDIS_URL: server.url }));
    gw = await stack.gateway();
  });
  afterAll(async () => {
    await admin.config('SET', 'maxclients', '10000').catch(() => undefined);
    admin.disconnect();
    await stack.close().catch(() => undefined);
    await server.close();
  });

  it('is ready when Redis answers and the adapter subscriber receives', async () => {
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body).toEqual({ ok: true, checks: { redis: 'ok', pubsub: 'ok' } });
    expect((await fetch(stack.url(gw, '/healthz'))).status).toBe(200);
  });

  it('answers 503 naming pubsub while its subscriber connection is gone, agreeing with the handshake refusals, then 200 again', async () => {
    const clients = (await admin.client('LIST')) as string;
    const subscriber = clients.split('\n').find((line) => / name=sb-adapter-sub /.test(line));
    const id = /^id=(\d+) /.exec(subscriber ?? '')?.[1];
    expect(id).toBeDefined();
    // New connections are refused (Redis answers "max number of clients reached") until restored,
    // so the subscriber stays away for as long as the test looks.
    const connected = clients.trim().split('\n').length;
    await admin.config('SET', 'maxclients', String(connected - 1));
    await admin.client('KILL', 'ID', id!);

    const down = await readyzUntil(503);
    expect(down.body).toEqual({ ok: false, checks: { redis: 'ok', pubsub: 'down' } });
    // The same moment as the gateway's own verdict: handshakes are refused too.
    expect(await handshake()).toBe(false);
    expect((await fetch(stack.url(gw, '/healthz'))).status).toBe(200); // liveness is not readiness

    await admin.config('SET', 'maxclients', '10000');
    const up = await readyzUntil(200);
    expect(up.body).toEqual({ ok: true, checks: { redis: 'ok', pubsub: 'ok' } });
    expect(await handshake()).toBe(true);
  }, 40_000);

  it('answers 503 pubsub timeout when the subscriber is connected but does not hear the probe', async () => {
    // The adapter's own subscriber connection (socket.io-redis-adapter keeps it as subClient).
    const sub = (gw.io.of('/orders').adapter as unknown as { subClient: Redis }).subClient;
    const channel = stack.config.KEY_PREFIX + ':probe#' + gw.access.presence.gatewayId;
    await sub.unsubscribe(channel);
    try {
      const deaf = await readyzUntil(503);
      expect(deaf.body).toEqual({ ok: false, checks: { redis: 'ok', pubsub: 'timeout' } });
    } finally {
      await sub.subscribe(channel);
    }
    expect((await readyzUntil(200)).body.ok).toBe(true);
  }, 20_000);

  it('answers 503 naming redis when the command connection is gone', async () => {
    const clients = (await admin.client('LIST')) as string;
    const command = clients.split('\n').find((line) => / name=sb-command /.test(line));
    const id = /^id=(\d+) /.exec(command ?? '')?.[1];
    expect(id).toBeDefined();
    const connected = clients.trim().split('\n').length;
    await admin.config('SET', 'maxclients', String(connected - 1));
    await admin.client('KILL', 'ID', id!);
    try {
      const down = await readyzUntil(503);
      expect(down.body.ok).toBe(false);
      expect(down.body.checks.redis).not.toBe('ok');
      // The probe is published on the command connection: it cannot be proved either.
      expect(down.body.checks.pubsub).not.toBe('ok');
    } finally {
      await admin.config('SET', 'maxclients', '10000');
    }
    expect((await readyzUntil(200)).body).toEqual({
      ok: true,
      checks: { redis: 'ok', pubsub: 'ok' },
    });
  }, 40_000);
});
