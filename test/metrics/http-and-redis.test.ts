import { randomUUID } from 'node:crypto';
import type { Gateway } from '../../src/gateway/server';
import { HTTP_BUCKETS } from '../../src/metrics/registry';
import { TestRedisServer } from '../helpers/redis-server';
import { Stack, testConfig } from '../helpers/stack';
import { scrape, valueOf, type Sample } from './scrape';

const DURATION = 'switchboard_http_request_duration_seconds';

const ORDER_EVENT = {
  event: 'order_status_changed',
  target: { orderId: 'dur1' },
  data: { orderId: 'dur1', status: 'paid' },
};

/**
 * `switchboard_http_request_duration_seconds` times every answered request by method, route
 * pattern (never the URL) and status class, the publish hot path included; and
 * `switchboard_redis_connection_errors_total` counts a gateway's Redis connection errors when its
 * (private) Redis goes away.
 */
describe('HTTP request durations', () => {
  const stack = new Stack(testConfig());
  let gw: Gateway;
  const tag = randomUUID().slice(0, 8);
  beforeAll(async () => {
    gw = await stack.gateway();
  });
  afterAll(() => stack.close());

  const samples = async () => (await scrape(stack.url(gw, '/metrics'))).samples;
  const count = (s: Sample[], labels: Record<string, string>) =>
    valueOf(s, `${DURATION}_count`, labels) ?? 0;
  const publish = (path: string) =>
    fetch(stack.url(gw, path), {
      method: 'POST',
      headers: stack.apiHeaders(),
      body: JSON.stringify(ORDER_EVENT),
    });
  const accepted = { method: 'POST', route: '/api/events', status_class: '2xx' };

  it('times the hot path under its route, then express under the same route', async () => {
    expect(count(await samples(), accepted)).toBe(0);
    expect((await publish('/api/events')).status).toBe(202);
    expect((await publish('/api/events')).status).toBe(202);
    expect(count(await samples(), accepted)).toBe(2);
    // Through express (a query keeps it off the hot path): the same series.
    expect((await publish('/api/events?via=express')).status).toBe(202);
    const s = await samples();
    expect(count(s, accepted)).toBe(3);
    expect(valueOf(s, `${DURATION}_sum`, accepted)).toBeGreaterThan(0);
    // Cumulative buckets at the API's bounds, ending in +Inf with every request.
    const buckets = s
      .filter((x) => x.name === `${DURATION}_bucket` && x.labels.route === '/api/events')
      .filter((x) => x.labels.method === 'POST' && x.labels.status_class === '2xx');
    expect(buckets.map((b) => b.labels.le)).toEqual([...HTTP_BUCKETS.map(String), '+Inf']);
    const values = buckets.map((b) => b.value);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    expect(values.at(-1)).toBe(3);
  });

  it('labels route patterns, unmatched paths, status classes and bounded methods, never a URL', async () => {
    expect((await stack.post(gw, `/api/orders/${tag}/status`, { status: 'paid' })).status).toBe(
      202,
    );
    expect((await fetch(stack.url(gw, `/nothing/${tag}`))).status).toBe(404);
    expect((await fetch(stack.url(gw, `/api/events`), { method: 'PROPFIND' })).status).toBe(401);
    const s = await samples();
    expect(count(s, { method: 'POST', route: '/api/orders/:id/status', status_class: '2xx' })).toBe(
      1,
    );
    expect(count(s, { method: 'GET', route: 'unmatched', status_class: '4xx' })).toBe(1);
    expect(count(s, { method: 'other', route: 'unmatched', status_class: '4xx' })).toBe(1);
    const labels = s
      .filter((x) => x.name.startsWith(DURATION))
      .flatMap((x) => [...Object.values(x.labels)]);
    expect(labels.filter((v) => v.includes(tag) || v.includes('nothing'))).toEqual([]);
    expect(
      new Set(s.filter((x) => x.name === `${DURATION}_count`).map((x) => x.labels.method)),
    ).toEqual(new Set(['POST', 'GET', 'other']));
  });
});

describe('Redis connection errors', () => {
  let redis: TestRedisServer;
  let stack: Stack;
  beforeAll(async () => {
    redis = await TestRedisServer.start();
    stack = new Stack(testConfig({ REDIS_URL: redis.url }));
  });
  afterAll(async () => {
    await stack.close();
    await redis.close();
  });

  it("counts the gateway's command connection errors while its Redis is away", async () => {
    const gw = await stack.gateway();
    const errors = async () =>
      valueOf(
        (await scrape(stack.url(gw, '/metrics'))).samples,
        'switchboard_redis_connection_errors_total',
        {
          connection: 'command',
        },
      );
    // Zero from the start: the series exists before the first error.
    expect(await errors()).toBe(0);
    const failed = new Promise<void>((resolve) => gw.runtime.redis.once('error', () => resolve()));
    await redis.stopProcess();
    await failed;
    const back = new Promise<void>((resolve) => gw.runtime.redis.once('ready', () => resolve()));
    await redis.startProcess();
    await back;
    expect(await errors()).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
