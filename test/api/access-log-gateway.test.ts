import { spawnGateway, type SpawnedGateway } from '../helpers/fault';
import { logLines } from '../helpers/log-lines';
import { Stack, testConfig } from '../helpers/stack';

const ADMIN_TOKEN = 'access-log-admin-token-0123456789';

const ORDER_EVENT = {
  event: 'order_status_changed',
  target: { orderId: 'acc1' },
  data: { orderId: 'acc1', status: 'paid' },
};

type Line = Record<string, unknown> & {
  req?: { id?: string; url?: string; headers?: Record<string, string> };
  res?: { statusCode?: number; headers?: Record<string, unknown> };
};

/**
 * A real gateway process (LOG_LEVEL=debug, so that successful publishes are logged too): the
 * publish hot path in front of express and express itself log the same access line through one
 * pino-http logger, both return X-Request-Id, probes are not logged, and no token, password or
 * session cookie reaches stdout.
 */
describe('access log of a gateway process', () => {
  const stack = new Stack(testConfig({ ADMIN_TOKEN }));
  let gateway: SpawnedGateway;
  let log: ReturnType<typeof logLines>;

  beforeAll(async () => {
    gateway = await spawnGateway(stack, { LOG_LEVEL: 'debug' });
    log = logLines(gateway.child);
  }, 40_000);
  afterAll(() => stack.close());

  const lineOf = (id: string) =>
    log.next((l) => l.scope === 'access' && (l as Line).req?.id === id) as Promise<Line>;

  it('logs a publish on the hot path and the same publish through express alike', async () => {
    const publish = (path: string, id: string) =>
      fetch(stack.url(gateway.gw, path), {
        method: 'POST',
        headers: { ...stack.apiHeaders(), 'x-request-id': id },
        body: JSON.stringify(ORDER_EVENT),
      });
    const hot = await publish('/api/events', 'hot-path-1');
    const viaExpress = await publish('/api/events?via=express', 'express-path-1');
    expect([hot.status, viaExpress.status]).toEqual([202, 202]);
    expect(hot.headers.get('x-request-id')).toBe('hot-path-1');
    expect(viaExpress.headers.get('x-request-id')).toBe('express-path-1');

    const [a, b] = [await lineOf('hot-path-1'), await lineOf('express-path-1')];
    // A successful publish is a debug line (publishes are counted by the HTTP histogram instead).
    for (const line of [a, b]) {
      expect(line).toMatchObject({ level: 20, msg: 'request completed', res: { statusCode: 202 } });
      expect(line.req?.headers?.authorization).toBe('[redacted]');
    }
    expect(a.req?.url).toBe('/api/events');
    expect(b.req?.url).toBe('/api/events?via=express');
    // The same fields either way.
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    expect(Object.keys(a.req ?? {}).sort()).toEqual(Object.keys(b.req ?? {}).sort());

    // Any other route's success is an info line.
    const health = await fetch(stack.url(gateway.gw, '/api/openapi.json'), {
      headers: { 'x-request-id': 'openapi-1' },
    });
    expect(health.status).toBe(200);
    expect(await lineOf('openapi-1')).toMatchObject({ level: 30, res: { statusCode: 200 } });
  });

  it('logs a refusal at warn, skips the probes, and prints no secret', async () => {
    const probes = ['/healthz', '/readyz', '/metrics'];
    const ids: string[] = [];
    for (const path of probes) {
      const res = await fetch(stack.url(gateway.gw, path), {
        headers: { 'x-request-id': `probe-${ids.length}` },
      });
      expect(res.status).toBe(200);
      ids.push(res.headers.get('x-request-id') ?? '');
    }
    expect(ids).toEqual(['probe-0', 'probe-1', 'probe-2']);

    const login = await fetch(stack.url(gateway.gw, '/admin/login'), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'login-1' },
      body: `password=${ADMIN_TOKEN}&next=/admin/queues/`,
    });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/=.{16,}/);
    const refused = await fetch(stack.url(gateway.gw, '/api/events'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer not-the-publish-token',
        cookie,
        'x-request-id': 'refused-1',
      },
      body: JSON.stringify(ORDER_EVENT),
    });
    expect(refused.status).toBe(401);

    expect((await lineOf('login-1')).res?.headers?.['set-cookie']).toBe('[redacted]');
    const line = await lineOf('refused-1');
    expect(line).toMatchObject({ level: 40, res: { statusCode: 401 } });
    expect(line.req?.headers?.cookie).toBe('[redacted]');
    // Answered before the lines above were written: had they been logged, they would be there.
    expect(log.seen.filter((l) => ids.includes((l as Line).req?.id ?? ''))).toEqual([]);
    const stdout = JSON.stringify(log.seen);
    for (const secret of [
      ADMIN_TOKEN,
      stack.config.PUBLISH_TOKEN,
      'not-the-publish-token',
      cookie.split('=')[1] ?? 'none',
    ])
      expect(stdout).not.toContain(secret);
  });
});
