import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { ERROR_CODES } from '../../src/errors';
import { commonActions } from '../../src/gateway/namespaces/common';
import { namespaceModules } from '../../src/gateway/namespaces/registry';
import type { Gateway } from '../../src/gateway/server';
import { SWEEP_JOB } from '../../src/throttle/jobs';
import { Stack, testConfig } from '../helpers/stack';
import { call, record, until } from '../helpers/wait';
import { hasBinary, hostileBody, hostileId, hostilePayload } from './arbitraries';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const codes = new Set(Object.keys(ERROR_CODES));
type AckLike = {
  ok: boolean;
  data?: { eventId?: string };
  error?: { code: string; message: string };
};

/** Every HTTP route, with its path filled from a hostile id. */
const routes: Array<{ method: string; path: (id: string) => string }> = [
  { method: 'POST', path: () => '/api/events' },
  { method: 'POST', path: (id) => `/api/posts/${id}/like` },
  { method: 'POST', path: (id) => `/api/posts/${id}/comments` },
  { method: 'POST', path: () => '/api/orders' },
  { method: 'POST', path: (id) => `/api/orders/${id}/status` },
  { method: 'POST', path: (id) => `/api/chats/${id}/messages` },
  { method: 'PUT', path: (id) => `/api/chats/${id}/members` },
  { method: 'POST', path: (id) => `/api/users/${id}/notifications` },
  { method: 'GET', path: () => '/healthz' },
  { method: 'POST', path: (id) => `/${id}` },
];

describe('hostile input', () => {
  // Limits far above the fuzz rate: this test is about input, not rate limits.
  const stack = new Stack(
    testConfig({
      RATE_SOCKET_BURST: '100000',
      RATE_USER_BURST: '100000',
      RATE_HTTP_BURST: '1000000',
      RATE_SOCKET_PER_SEC: '100000',
      RATE_USER_PER_SEC: '100000',
      RATE_HTTP_PER_SEC: '1000000',
    }),
  );
  afterAll(() => stack.close());

  it(`answers ${RUNS} hostile payloads on every action and route with typed errors, enqueues nothing from them, and still delivers valid events`, async () => {
    const gw: Gateway = await stack.gateway();
    const worker = await stack.worker();
    const processed: string[] = [];
    // Ids the worker emitted: an immediate event's id, or a throttled window's id (flush jobs).
    // Presence transitions are the gateway's own events, not fuzz input.
    const recordJob = (job: { data: unknown }) => {
      const d = (job.data ?? {}) as {
        events?: Array<{ id: string; event: string }>;
        windowId?: string;
        throttleKey?: string;
      };
      for (const e of d.events ?? []) if (e.event !== 'user_status_changed') processed.push(e.id);
      if (d.windowId && !d.throttleKey?.includes(':user_status_changed:'))
        processed.push(d.windowId);
    };
    worker.worker.on('completed', recordJob);
    worker.throttleWorker.on('completed', recordJob);
    const accepted: string[] = [];

    const sockets: Array<{
      ns: string;
      socket: Socket;
      actions: Record<string, { schema: { safeParse(v: unknown): { success: boolean } } }>;
    }> = [];
    for (const mod of Object.values(namespaceModules)) {
      sockets.push({
        ns: mod.name,
        socket: await stack.client(gw, mod.name, await stack.auth('fuzzer', ['admin'])),
        actions: { ...commonActions, ...mod.actions },
      });
    }
    // Valid traffic in between, watched by listeners: every accepted valid event must arrive.
    const listener = await stack.client(gw, '/social', await stack.auth('listener'));
    await call(listener, 'join_post', { postId: 'fz' });
    const delivered = record<unknown, { id: string }>(listener, 'post_liked');
    const validSent: string[] = [];

    // Each run sends one hostile payload to one action and one raw request to one route, picked
    // at random; over RUNS runs every action and route gets dozens (checked below).
    const targets = sockets.flatMap(({ ns, socket, actions }) =>
      [...Object.entries(actions), ['no_such_action', undefined] as const].map(([name, def]) => ({
        ns,
        socket,
        name,
        def,
      })),
    );
    const hits = new Map<string, number>();
    const hit = (key: string) => hits.set(key, (hits.get(key) ?? 0) + 1);

    await fc.assert(
      fc.asyncProperty(
        hostilePayload,
        hostileId,
        hostileBody,
        fc.nat(),
        async (payload, id, raw, n) => {
          const sendToAction = async () => {
            const { ns, socket, name, def } = targets[
              n % targets.length
            ] as (typeof targets)[number];
            hit(`${ns} ${name}`);
            const ack = await call<AckLike>(socket, name, payload);
            if (ack.ok) {
              if (ack.data?.eventId) accepted.push(ack.data.eventId);
              return;
            }
            expect(codes.has(ack.error?.code ?? '')).toBe(true);
            expect(typeof ack.error?.message).toBe('string');
            // What the schema refuses is refused, as invalid or too large (binary aside: JSON is the oracle).
            if (
              def &&
              !hasBinary(payload) &&
              !def.schema.safeParse(JSON.parse(JSON.stringify(payload ?? {}))).success
            ) {
              expect(['invalid_payload', 'payload_too_large']).toContain(ack.error?.code);
            }
          };
          const sendToRoute = async () => {
            const route = routes[n % routes.length] as (typeof routes)[number];
            hit(`${route.method} ${route.path(':id')}`);
            const res = await fetch(stack.url(gw, route.path(id)), {
              method: route.method,
              headers: { ...stack.apiHeaders(), 'content-type': raw.type },
              body: route.method === 'GET' ? undefined : raw.body,
            });
            const body = (await res.json()) as {
              id?: string;
              error?: { code: string; message: string };
            };
            if (res.status < 400) {
              if (res.status === 202) accepted.push(body.id as string);
              return;
            }
            expect(codes.has(body.error?.code ?? '')).toBe(true);
            expect(ERROR_CODES[body.error?.code as keyof typeof ERROR_CODES]).toBe(res.status);
            expect(res.status).toBeLessThan(500);
          };
          const valid =
            n % 10 === 0
              ? [
                  stack
                    .post(gw, '/api/posts/fz/like', { userId: `v${n % 1000}` })
                    .then(async (r) => validSent.push(((await r.json()) as { id: string }).id)),
                ]
              : [];
          await Promise.all([sendToAction(), sendToRoute(), ...valid]);
        },
      ),
      { numRuns: RUNS },
    );
    expect(hits.size).toBe(targets.length + routes.length);

    // Every valid event arrived, and the worker ran exactly the events that were accepted.
    // Likes are throttled: an accept returns its window's id, so compare sets of ids.
    const deliveredIds = () => new Set(delivered.map(([, meta]) => meta.id));
    await until(
      () => validSent.every((id) => deliveredIds().has(id)),
      15_000,
      'valid events delivered',
    );
    expect(deliveredIds()).toEqual(new Set(validSent));
    const expected = new Set([...accepted, ...validSent]);
    await until(() => [...expected].every((id) => processed.includes(id)), 15_000, 'queue drained');
    expect(new Set(processed)).toEqual(expected);
    for (const queue of [gw.runtime.events.queue, gw.runtime.events.throttleQueue]) {
      expect(await queue.getJobCounts('waiting', 'active', 'failed')).toEqual({
        waiting: 0,
        active: 0,
        failed: 0,
      });
    }
    expect(await gw.runtime.events.queue.getDelayed()).toEqual([]);
    // Delayed flushes: only the sweep's next run and flushes of presence windows, never fuzz input.
    const delayed = await gw.runtime.events.throttleQueue.getDelayed();
    for (const job of delayed)
      expect(
        job.name === SWEEP_JOB ||
          String((job.data as { throttleKey?: string } | undefined)?.throttleKey).includes(
            ':user_status_changed:',
          ),
      ).toBe(true);
    // Nothing leaked into prototypes, and the gateway still serves everyone.
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await fetch(stack.url(gw, '/healthz'))).status).toBe(200);
    for (const { socket } of sockets) expect(socket.connected).toBe(true);
    expect(validSent.length).toBeGreaterThan(0);
  }, 120_000);
});
