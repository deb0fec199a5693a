import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { listEvents } from '../../src/catalog';
import { BATCH_JOB } from '../../src/wire/delivery-batch';
import { deliveryJobOptions, prepareEnvelope } from '../../src/events/event-manager';
import type { Gateway } from '../../src/gateway/server';
import { commonActions } from '../../src/gateway/namespaces/common';
import { namespaceModules } from '../../src/gateway/namespaces/registry';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server';
import type { WorkerProcess } from '../../src/app/worker';
import { Stack, testConfig } from '../helpers/stack';
import { call, until } from '../helpers/wait';
import { parseMetrics, scrape, valueOf, type Sample } from './scrape';

const EVENT = 'order_status_changed';
const SENT = 5;

/**
 * A real flow (gateway, in-process worker with its metrics server, socket.io clients in an order
 * room, events through the EventManager, client actions, HTTP calls), then both /metrics: each
 * series has the expected value, and no label carries a room, a user or an id of the test.
 */
describe('metrics after a real flow', () => {
  // Each test has its own gateway, worker (with its metrics server), clients and Redis prefix:
  // the counts below start from zero in every test.
  let stack: Stack;
  const tag = randomUUID().slice(0, 8);
  const orderId = `mord-${tag}`;
  const userId = `muser-${tag}`;
  let gw: Gateway;
  let worker: WorkerProcess;
  let workerHttp: MetricsServer | undefined;
  let clients: Socket[];
  const gatewayMetrics = () => scrape(stack.url(gw, '/metrics'));
  const workerMetrics = () => scrape(`http://127.0.0.1:${workerHttp!.port}/metrics`);
  const workerValue = async (name: string, labels: Record<string, string> = {}) =>
    valueOf((await workerMetrics()).samples, name, labels) ?? 0;

  beforeEach(async () => {
    stack = new Stack();
    gw = await stack.gateway();
    worker = await stack.worker();
    workerHttp = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      metrics: worker.metrics,
      ready: () => worker.ready(),
    });
    const auth = await stack.auth(userId, ['admin']);
    clients = [await stack.client(gw, '/orders', auth), await stack.client(gw, '/orders', auth)];
  });
  afterEach(async () => {
    await workerHttp?.close();
    workerHttp = undefined;
    await stack.close();
  });

  /** The real flow, checking each series on the way; returns the texts of the last scrape of both processes. */
  async function realFlow(): Promise<{ gateway: string; worker: string }> {
    for (const c of clients)
      expect(await call(c, 'join_order', { orderId })).toMatchObject({ ok: true });
    const received = clients.map((c) => {
      const ids: string[] = [];
      c.on(EVENT, (_d: unknown, meta: { id: string }) => ids.push(meta.id));
      return ids;
    });

    let g = await gatewayMetrics();
    expect(g.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(g.samples, 'switchboard_sockets_connected', { namespace: '/orders' })).toBe(2);
    expect(valueOf(g.samples, 'switchboard_sockets_connected', { namespace: '/chat' })).toBe(0);
    const acceptedBefore =
      valueOf(g.samples, 'switchboard_events_accepted_total', { event: EVENT }) ?? 0;

    // Events through the EventManager, received by both clients.
    for (let i = 0; i < SENT; i++)
      await gw.runtime.events.emitToOrder(EVENT, orderId, { orderId, status: 'preparing' });
    await until(
      () => received.every((ids) => ids.length === SENT),
      10_000,
      'both clients to receive every event',
    );
    g = await gatewayMetrics();
    expect(valueOf(g.samples, 'switchboard_events_accepted_total', { event: EVENT })).toBe(
      acceptedBefore + SENT,
    );
    await until(
      async () =>
        (await workerValue('switchboard_events_delivered_total', { event: EVENT })) === SENT,
      5000,
      'delivered_total',
    );
    let w = await workerMetrics();
    expect(valueOf(w.samples, 'switchboard_delivery_seconds_count')).toBe(SENT);
    expect(valueOf(w.samples, 'switchboard_delivery_seconds_bucket', { le: '10' })).toBe(SENT);
    expect(valueOf(w.samples, 'switchboard_delivery_seconds_bucket', { le: '+Inf' })).toBe(SENT);
    expect(valueOf(w.samples, 'switchboard_delivery_seconds_sum')).toBeGreaterThan(0);

    // Client actions: two joins ok, one invalid payload, one name the namespace does not have.
    expect(await call(clients[0]!, 'join_order', { orderId: 'no spaces allowed' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await call(clients[0]!, `bogus_${userId}`, {})).toMatchObject({
      ok: false,
      error: { code: 'unknown_action' },
    });
    expect(await call(clients[1]!, 'ping')).toMatchObject({ ok: true });

    // HTTP: a route with a parameter (emits one more event), and a path no route has.
    expect((await stack.post(gw, `/api/orders/${orderId}/status`, { status: 'paid' })).status).toBe(
      202,
    );
    expect((await fetch(stack.url(gw, `/nothing/${userId}`))).status).toBe(404);
    expect(
      (await fetch(stack.url(gw, `/api/orders/${orderId}/status`), { method: 'POST' })).status,
    ).toBe(401);
    await until(() => received.every((ids) => ids.length === SENT + 1), 10_000, 'the HTTP event');

    // A batch whose second event the worker sets aside (another catalog version, invalid payload).
    const good = prepareEnvelope({ event: EVENT, data: { orderId, status: 'shipped' } });
    const bad = {
      ...prepareEnvelope({ event: EVENT, data: { orderId, status: 'shipped' } }),
      data: { orderId, status: 'teleported' },
    };
    await gw.runtime.events.queue.add(
      BATCH_JOB,
      { catalog: 'another-version', events: [good, bad] },
      deliveryJobOptions(1),
    );
    await until(
      async () => (await workerValue('switchboard_events_failed_total', { event: EVENT })) === 1,
      10_000,
      'failed_total',
    );
    await until(
      () => received.every((ids) => ids.length === SENT + 2),
      10_000,
      'the good neighbour',
    );

    // One client leaves.
    clients[1]!.disconnect();
    await until(
      async () =>
        valueOf((await gatewayMetrics()).samples, 'switchboard_sockets_connected', {
          namespace: '/orders',
        }) === 1,
      5000,
      'sockets_connected 1',
    );

    g = await gatewayMetrics();
    w = await workerMetrics();
    const gv = (name: string, labels: Record<string, string>) => valueOf(g.samples, name, labels);
    expect(gv('switchboard_events_accepted_total', { event: EVENT })).toBe(
      acceptedBefore + SENT + 1,
    );
    expect(
      gv('switchboard_client_actions_total', {
        namespace: '/orders',
        action: 'join_order',
        result: 'ok',
      }),
    ).toBe(2);
    expect(
      gv('switchboard_client_actions_total', {
        namespace: '/orders',
        action: 'join_order',
        result: 'invalid_payload',
      }),
    ).toBe(1);
    expect(
      gv('switchboard_client_actions_total', {
        namespace: '/orders',
        action: 'unknown',
        result: 'unknown_action',
      }),
    ).toBe(1);
    expect(
      gv('switchboard_client_actions_total', {
        namespace: '/orders',
        action: 'ping',
        result: 'ok',
      }),
    ).toBe(1);
    expect(
      gv('switchboard_http_requests_total', { route: '/api/orders/:id/status', status: '202' }),
    ).toBe(1);
    expect(gv('switchboard_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    // Refused by the bearer check before any route matched.
    expect(gv('switchboard_http_requests_total', { route: 'unmatched', status: '401' })).toBe(1);
    // Counted once answered: this scrape's own request is not in its text yet.
    expect(
      gv('switchboard_http_requests_total', { route: '/metrics', status: '200' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      gv('switchboard_socket_disconnects_total', { reason: 'client namespace disconnect' }),
    ).toBe(1);
    expect(gv('switchboard_sockets_connected', { namespace: '/orders' })).toBe(1);

    const wv = (name: string, labels: Record<string, string> = {}) =>
      valueOf(w.samples, name, labels);
    expect(wv('switchboard_events_delivered_total', { event: EVENT })).toBe(SENT + 2);
    expect(wv('switchboard_delivery_seconds_count')).toBe(SENT + 2);
    expect(wv('switchboard_events_failed_total', { event: EVENT })).toBe(1);

    // Deployment-wide gauges, read from Redis on scrape, the same on both processes.
    for (const samples of [g.samples, w.samples]) {
      expect(
        valueOf(samples, 'switchboard_queue_jobs', { queue: 'delivery', state: 'failed' }),
      ).toBe(1);
      expect(
        valueOf(samples, 'switchboard_queue_jobs', { queue: 'handlers', state: 'active' }),
      ).toBe(0);
      expect(valueOf(samples, 'switchboard_queue_paused', { queue: 'throttle' })).toBe(0);
      expect(valueOf(samples, 'switchboard_throttle_windows')).toBeGreaterThanOrEqual(0);
      // Default process metrics, under their standard names (stock Node.js dashboards read them).
      expect(valueOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(valueOf(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
      expect(samples.some((s) => s.name.startsWith('switchboard_process_'))).toBe(false);
    }
    return { gateway: g.text, worker: w.text };
  }

  it('counts accepted, delivered, timed, actions, HTTP requests, sockets and failures with the right values', async () => {
    await realFlow();
  }, 60_000);

  it('keeps labels bounded: catalog events, module actions, namespaces, route patterns; never a room, user or id', async () => {
    // Its own flow (the one above, checked the same way), then the labels of its last scrapes.
    const last = await realFlow();
    const samples: Sample[] = [...parseMetrics(last.gateway), ...parseMetrics(last.worker)];
    expect(samples.length).toBeGreaterThan(50);
    const forbidden = [
      orderId,
      userId,
      tag,
      `order:${orderId}`,
      'bogus',
      'nothing',
      ...clients.map((c) => c.id ?? 'no-id'),
    ];
    // Ours, or prom-client's default process metrics under their standard names.
    const ours = samples.filter((s) => s.name.startsWith('switchboard_'));
    const defaults = samples.filter((s) => /^(process|nodejs)_/.test(s.name));
    expect(ours.length).toBeGreaterThan(50);
    expect(ours.length + defaults.length).toBe(samples.length);
    const events = new Set([...listEvents().map((e) => e.name), 'unknown']);
    const actions = new Set([
      'unknown',
      ...Object.keys(commonActions),
      ...Object.values(namespaceModules).flatMap((m) => Object.keys(m.actions)),
    ]);
    const namespaces = new Set(Object.keys(namespaceModules));
    for (const s of samples) {
      for (const [key, value] of Object.entries(s.labels)) {
        for (const f of forbidden) expect(`${s.name}{${key}="${value}"}`).not.toContain(f);
      }
      if (s.labels.event !== undefined) expect(events).toContain(s.labels.event);
      if (s.labels.action !== undefined) expect(actions).toContain(s.labels.action);
      if (s.labels.namespace !== undefined) expect(namespaces).toContain(s.labels.namespace);
      if (s.labels.route !== undefined) expect(s.labels.route).toMatch(/^(unmatched|\/[a-z/:]*)$/);
    }
  }, 60_000);

  it('reports both processes ready, and a worker with a stopped consumer not ready', async () => {
    const g = await fetch(stack.url(gw, '/readyz'));
    expect(g.status).toBe(200);
    expect(await g.json()).toEqual({ ok: true, checks: { redis: 'ok', pubsub: 'ok' } });
    const w = await fetch(`http://127.0.0.1:${workerHttp!.port}/readyz`);
    expect(w.status).toBe(200);
    expect(await w.json()).toEqual({
      ok: true,
      checks: { redis: 'ok', pubsub: 'ok', workers: 'ok', inbox: 'ok', state: 'ok' },
    });
    expect((await fetch(`http://127.0.0.1:${workerHttp!.port}/healthz`)).status).toBe(200);

    // A worker whose throttle-queue consumer stopped cannot flush windows: not ready, and says why.
    await worker.throttleWorker.close();
    const stopped = await fetch(`http://127.0.0.1:${workerHttp!.port}/readyz`);
    expect(stopped.status).toBe(503);
    expect(await stopped.json()).toEqual({
      ok: false,
      checks: { redis: 'ok', pubsub: 'ok', workers: 'stopped', inbox: 'ok', state: 'ok' },
    });
    expect((await fetch(`http://127.0.0.1:${workerHttp!.port}/healthz`)).status).toBe(200);
  });
});

/** Throttled accepts count one each; open windows are read from Redis on every scrape. */
describe('metrics of throttled events', () => {
  const stack = new Stack(testConfig());
  afterAll(() => stack.close());

  it('counts every throttled accept and the open windows on both processes', async () => {
    const gw = await stack.gatewayWithParkedFlushes();
    const posts = [`p1-${randomUUID().slice(0, 6)}`, `p2-${randomUUID().slice(0, 6)}`];
    await gw.runtime.events.emit('post_liked', { postId: posts[0]!, userId: 'a', likeCount: 1 });
    await gw.runtime.events.emit('post_liked', { postId: posts[0]!, userId: 'b', likeCount: 2 });
    await gw.runtime.events.emit('post_liked', { postId: posts[1]!, userId: 'a', likeCount: 1 });
    const g = (await scrape(stack.url(gw, '/metrics'))).samples;
    const w = parseMetrics(await stack.workers[0]!.metrics.text());
    expect(valueOf(g, 'switchboard_events_accepted_total', { event: 'post_liked' })).toBe(3);
    expect(valueOf(g, 'switchboard_throttle_windows')).toBe(2);
    expect(valueOf(w, 'switchboard_throttle_windows')).toBe(2);
    expect(valueOf(g, 'switchboard_queue_paused', { queue: 'throttle' })).toBe(1);
    // Parked flushes: nothing of post_liked was delivered.
    expect(valueOf(w, 'switchboard_events_delivered_total', { event: 'post_liked' }) ?? 0).toBe(0);
  });
});
