import { readFileSync } from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { EventMeta } from '../../src/catalog';
import { startNginx, type Nginx } from '../helpers/nginx';
import { ROOT, Stack, testConfig } from '../helpers/stack';
import { call, nextEvent } from '../helpers/wait';

/** `switchboard_sockets_connected` of one gateway, by namespace. */
async function socketsByNamespace(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const counts: Record<string, number> = {};
  for (const [, ns, value] of text.matchAll(
    /^switchboard_sockets_connected\{namespace="([^"]+)"\} (\d+)$/gm,
  ))
    counts[ns!] = Number(value);
  return counts;
}

/** Resolves once the client's Engine.IO connection runs over a websocket (after the upgrade from polling). */
function upgraded(socket: Socket): Promise<void> {
  const engine = socket.io.engine;
  if (engine.transport.name === 'websocket') return Promise.resolve();
  return new Promise((resolve) => engine.once('upgrade', () => resolve()));
}

describe('deploy/nginx.conf in front of two gateways', () => {
  // As deployed (docker-compose.yml): the gateways trust the one nginx in front (test/origins/trust-proxy.test.ts checks what that changes).
  const stack = new Stack(testConfig({ TRUST_PROXY: '1' }));
  let nginx: Nginx | undefined;
  afterAll(async () => {
    await nginx?.stop();
    await stack.close();
  });

  it('websocket and polling clients connect through it, get an event published through it, and polling stays on one gateway', async () => {
    const gateways = [await stack.gateway(), await stack.gateway()];
    await stack.worker();
    nginx = await startNginx(gateways.map((g) => g.port));
    const lb = `http://127.0.0.1:${nginx.port}`;

    const drops: string[] = [];
    const connect = async (ns: string, transports: string[], userId: string): Promise<Socket> => {
      const socket = io(`${lb}${ns}`, {
        transports,
        reconnection: false,
        forceNew: true,
        auth: await stack.auth(userId, ['admin']),
      });
      stack.sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      socket.on('disconnect', (reason) => drops.push(`${ns} ${userId}: ${reason}`));
      return socket;
    };
    // Each kind in its own namespace, so the gateways' socket gauges tell where each one landed.
    const websockets = await Promise.all(
      [0, 1, 2, 3].map((i) => connect('/orders', ['websocket'], `ws-${i}`)),
    );
    const polling = await connect('/chat', ['polling'], 'poller');
    const upgrading = await connect('/social', ['polling', 'websocket'], 'upgrader');

    for (const socket of websockets)
      expect(await call(socket, 'join_order', { orderId: 'lb' })).toMatchObject({ ok: true });
    expect(await call(polling, 'join_chat', { chatId: 'lb' })).toMatchObject({ ok: true });
    expect(await call(upgrading, 'join_post', { postId: 'lb' })).toMatchObject({ ok: true });
    // The upgrade request carries the polling session's sid: it must reach the same gateway.
    await upgraded(upgrading);

    const arrivals = [
      ...websockets.map((socket) => nextEvent<unknown, EventMeta>(socket, 'order_status_changed')),
      nextEvent<unknown, EventMeta>(polling, 'new_message'),
      nextEvent<unknown, EventMeta>(upgrading, 'post_commented'),
    ];
    const publish = (body: unknown) =>
      fetch(`${lb}/api/events`, {
        method: 'POST',
        headers: stack.apiHeaders(),
        body: JSON.stringify(body),
      }).then((res) => res.status);
    expect(
      await Promise.all([
        publish({ event: 'order_status_changed', data: { orderId: 'lb', status: 'shipped' } }),
        publish({
          event: 'new_message',
          data: {
            chatId: 'lb',
            messageId: 'm-1',
            userId: null,
            content: 'via nginx',
            sentAt: Date.now(),
          },
        }),
        publish({
          event: 'post_commented',
          data: { postId: 'lb', commentId: 'c-1', userId: 'u', text: 'via nginx' },
        }),
      ]),
    ).toEqual([202, 202, 202]);
    expect((await Promise.all(arrivals)).map(([, meta]) => meta.room)).toEqual([
      'order:lb',
      'order:lb',
      'order:lb',
      'order:lb',
      'chat:lb',
      'post:lb',
    ]);

    // Many more polling requests (each ack is a POST, each answer comes on a GET): had one reached
    // the other gateway, it would have answered "Session ID unknown" and the client would be gone.
    for (let i = 0; i < 20; i++) expect(await call(polling, 'ping')).toMatchObject({ ok: true });
    expect(polling.io.engine.transport.name).toBe('polling');
    expect(drops).toEqual([]);

    const counts = await Promise.all(
      gateways.map((g) => socketsByNamespace(stack.url(g, '/metrics'))),
    );
    const of = (ns: string) => counts.map((c) => c[ns] ?? 0);
    // Websocket-only clients are not pinned: least_conn spreads them over both gateways.
    expect(of('/orders').every((n) => n >= 1) && of('/orders').reduce((a, b) => a + b) === 4).toBe(
      true,
    );
    // Each polling session (the upgraded one included) lives on exactly one gateway.
    expect(of('/chat').sort()).toEqual([0, 1]);
    expect(of('/social').sort()).toEqual([0, 1]);

    // Only /socket.io/, /api/, /admin/ and /console are served; metrics and probes are not public.
    for (const p of ['/metrics', '/readyz', '/healthz'])
      expect(`${p} ${(await fetch(`${lb}${p}`)).status}`).toBe(`${p} 404`);
    expect((await fetch(`${lb}/api/events`, { method: 'POST' })).status).toBe(401);
  });
});

/** The top-level services of docker-compose.yml, each with the text of its block. */
function composeServices(yml: string): Map<string, string> {
  const section = yml.slice(yml.indexOf('\nservices:\n'), yml.indexOf('\nvolumes:\n'));
  const services = new Map<string, string>();
  for (const block of section.split(/\n(?= {2}[a-z0-9-]+:)/).slice(1))
    services.set(/^ {2}([a-z0-9-]+):/.exec(block)![1]!, block);
  return services;
}

describe("docker-compose.yml's gateways behind its nginx", () => {
  it('are each one service on its own server line (sticky polling pins a client to a line), trusting one proxy', () => {
    const yml = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    const conf = readFileSync(path.join(ROOT, 'deploy/compose/switchboard-gateways.conf'), 'utf8');
    const services = composeServices(yml);
    // A gateway service runs the gateway itself or extends the first one (`<<: *gateway`).
    const gateways = [...services]
      .filter(
        ([, block]) =>
          block.includes('dist/src/app/gateway-main.js') || block.includes('<<: *gateway'),
      )
      .map(([name]) => name);
    expect(gateways.length).toBeGreaterThanOrEqual(2);
    const lines = [...conf.matchAll(/^server ([^\s:]+):3000\b.*;$/gm)].map((m) => m[1]!);
    expect(lines.sort()).toEqual([...gateways].sort());
    // One server line must stand for one gateway: no replicas behind a line.
    for (const name of gateways)
      expect(`${name}: ${/^\s+(replicas|scale):/m.test(services.get(name)!)}`).toBe(
        `${name}: false`,
      );
    const nginx = services.get('nginx')!;
    for (const name of gateways) expect(nginx).toContain(`${name}: { condition: service_healthy }`);
    expect(/TRUST_PROXY: "1"/.test(services.get(gateways[0]!)!)).toBe(true);
  });
});
