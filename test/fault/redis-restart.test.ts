import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { createKeys } from '../../src/redis/keys';
import { Stack, testConfig } from '../helpers/stack';
import { TestRedisServer } from '../helpers/redis-server';
import {
  reconnectingClient,
  RoomTracker,
  spawnGateway,
  spawnWorker,
  type SpawnedGateway,
} from '../helpers/fault';
import { nextEvent, sleep, until } from '../helpers/wait';

type JoinAck = {
  ok: boolean;
  data?: { room: string; recovered?: number; incomplete?: true };
  error?: { code: string };
};

const ENQUEUE_TIMEOUT_MS = 1000;
/** Producer pace: one POST started every ~10 ms, without waiting for the previous one. */
const EVERY_MS = 10;
const OUTAGE_MS = 1500;
/** Events accepted in one burst just before Redis goes, so some are still queued when it does. */
const BURST = 300;
/**
 * BullMQ job lock of the worker. A job Redis moved to 'active' just before it went away, whose
 * reply the worker never got, stays there until its lock expires and a stalled check re-queues it:
 * about 2-3x this (30 s by default), so the test shortens it to keep that case bounded.
 */
const LOCK_MS = 5000;

interface Outcome {
  status: number;
  /** When it was sent, and how long the answer took. */
  at: number;
  ms: number;
  /** The request's number, sent as the event's `note`. */
  note: string;
  id?: string;
  code?: string;
  /** Sent while Redis was down (between the stop and the restart being ready). */
  duringOutage: boolean;
}

/** Fires a POST every EVERY_MS until stopped and records each outcome (status, latency, id or error code). */
function startProducer(stack: Stack, gw: SpawnedGateway, orderId: string, outage: () => boolean) {
  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  let running = true;
  let n = 0;
  const one = async () => {
    const note = String(n++);
    const duringOutage = outage();
    const started = Date.now();
    try {
      const res = await stack.post(gw.gw, '/api/events', {
        event: 'order_status_changed',
        target: { orderId },
        data: { orderId, status: 'preparing', note },
      });
      const body = (await res.json()) as { id?: string; error?: { code: string } };
      outcomes.push({
        note,
        status: res.status,
        at: started,
        ms: Date.now() - started,
        id: body.id,
        code: body.error?.code,
        duringOutage,
      });
    } catch (err) {
      outcomes.push({
        note,
        status: 0,
        at: started,
        ms: Date.now() - started,
        code: (err as Error).message,
        duringOutage,
      });
    }
  };
  // A named function, not an IIFE: TypeScript would read `running` as still `true` inside one.
  const produce = async () => {
    while (running) {
      const p = one();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      await sleep(EVERY_MS); // the producer's pace
    }
  };
  const loop = produce();
  return {
    outcomes,
    stop: async () => {
      running = false;
      await loop;
      await Promise.all([...inFlight]);
    },
  };
}

/**
 * A client that behaves like a browser app: reconnects on its own, and on every (re)connect joins
 * its order room with `since` = the newest meta.offset it has seen.
 */
async function orderClient(stack: Stack, gw: SpawnedGateway, orderId: string) {
  const tracker = new RoomTracker();
  const acks: JoinAck[] = [];
  let connects = 0;
  const socket: Socket = await reconnectingClient(
    stack,
    gw.port,
    '/orders',
    await stack.auth('ops', ['admin']),
  );
  tracker.attach(socket);
  const join = async () => {
    connects++;
    const since = tracker.lastOffset;
    for (;;) {
      try {
        const ack = (await socket
          .timeout(3000)
          .emitWithAck('join_order', since ? { orderId, since } : { orderId })) as JoinAck;
        acks.push(ack);
        if (ack.ok || !socket.connected) return;
      } catch {
        if (!socket.connected) return; // the next 'connect' joins again
      }
      await sleep(100); // before retrying a join that failed while the gateway could not reach Redis
    }
  };
  socket.on('connect', () => void join());
  await join();
  return { socket, tracker, acks, connects: () => connects };
}

describe('fault: Redis restarted under a gateway process and a worker process', () => {
  let redis: TestRedisServer;
  let stack: Stack;
  let gateway: SpawnedGateway;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    stack = new Stack(
      testConfig({
        REDIS_URL: redis.url,
        ENQUEUE_TIMEOUT_MS: String(ENQUEUE_TIMEOUT_MS),
        WORKER_LOCK_MS: String(LOCK_MS),
        RATE_HTTP_BURST: '100000',
        RATE_HTTP_PER_SEC: '100000',
      }),
    );
    [gateway] = await Promise.all([spawnGateway(stack), spawnWorker(stack)]);
  }, 40_000);
  afterAll(async () => {
    // Either is still unset when beforeAll failed before creating it.
    await (stack as Stack | undefined)?.close();
    await (redis as TestRedisServer | undefined)?.close();
  }, 30_000);

  /**
   * Events flow (a POST every ~10 ms, plus a burst so a backlog is queued) while `fault` runs; the
   * producer goes on for 2 s after it, then the client must have every event that got a 202.
   * `down()` tells the producer which requests were sent while Redis was away.
   */
  async function faultRun(
    orderId: string,
    fault: (down: (on: boolean) => void) => Promise<string>,
  ) {
    const client = await orderClient(stack, gateway, orderId);
    let isDown = false;
    const producer = startProducer(stack, gateway, orderId, () => isDown);
    await until(() => client.tracker.unique >= 50, 15_000, 'live events before the fault');

    const burst = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        stack
          .post(gateway.gw, '/api/events', {
            event: 'order_status_changed',
            target: { orderId },
            data: { orderId, status: 'paid', note: `b${i}` },
          })
          .then(async (res) => ({
            status: res.status,
            id: ((await res.json()) as { id?: string }).id,
          })),
      ),
    );
    expect(burst.map((b) => b.status)).toEqual(burst.map(() => 202));
    const backlog = burst.filter((b) => !client.tracker.has(b.id!)).length;

    const faultInfo = await fault((on) => (isDown = on));
    const recoveredAt = Date.now();
    // The gateway must take events again on its own.
    await until(
      () => producer.outcomes.some((o) => o.status === 202 && o.at >= recoveredAt),
      15_000,
      'a 202 after the fault',
    ).catch(() => undefined);
    const firstOkAfterMs =
      (producer.outcomes.find((o) => o.status === 202 && o.at >= recoveredAt)?.at ?? NaN) -
      recoveredAt;
    await sleep(2000); // the producer goes on for 2 s after the fault (the run's design, see above)
    await producer.stop();
    const stoppedAt = Date.now();

    const accepted = [
      ...producer.outcomes.filter((o) => o.status === 202).map((o) => o.id!),
      ...burst.map((b) => b.id!),
    ];
    await until(
      () => accepted.every((id) => client.tracker.has(id)),
      4 * LOCK_MS,
      'every accepted event delivered',
    ).catch(() => undefined);
    const deliveredAfterMs = Date.now() - stoppedAt;
    // A barrier: one more event to the room (another event name, so the tracker does not count it),
    // through the same queue, worker and gateway; a late duplicate would have arrived before it.
    const barrier = nextEvent(client.socket, 'payment_confirmed', 10_000);
    const barrierRes = await stack.post(gateway.gw, '/api/events', {
      event: 'payment_confirmed',
      target: { orderId },
      data: { orderId, paymentId: 'barrier', amount: 1, currency: 'EUR' },
    });
    expect(barrierRes.status).toBe(202);
    await barrier;

    const refused = producer.outcomes.filter((o) => o.status !== 202);
    const { missing, extra } = client.tracker.diff(accepted);
    if (missing.length > 0)
      console.log(
        `fault: missing after ${orderId}: ${JSON.stringify(await whereAre(missing.slice(0, 5), orderId))}`,
      );
    // An event delivered without a 202 must come from a request that was refused: Redis applied
    // the write but its reply was lost with the connection, so the gateway could not know.
    const refusedNotes = new Set(refused.map((o) => o.note));
    const extraNotes = extra.map((id) => client.tracker.deliveries.find((d) => d.id === id)?.note);
    return {
      accepted,
      refused,
      missing,
      extra,
      // Delivered more than a second after the producer stopped: re-queued by a stalled check.
      late: client.tracker.firstDeliveries().filter((d) => d.at > stoppedAt + 1000).length,
      appliedDespiteRefusal: extraNotes.filter(
        (note) => note !== undefined && refusedNotes.has(note),
      ).length,
      unexplained: extra.filter((_, i) => !refusedNotes.has(extraNotes[i] ?? '')),
      deliveredAfterMs,
      client,
      outcomes: producer.outcomes,
      acceptedAfterFault: producer.outcomes.filter((o) => o.status === 202 && o.at >= recoveredAt)
        .length,
      firstOkAfterMs,
      backlog,
      faultInfo,
    };
  }

  /** Where undelivered events are: their job's state in the queue, and whether the room history has them. */
  async function whereAre(ids: string[], orderId: string) {
    const direct = new Redis(redis.url);
    const queue = new Queue(stack.config.QUEUE_NAME, {
      connection: direct,
      prefix: createKeys(stack.config.KEY_PREFIX).bullPrefix,
    });
    try {
      const history = (await direct.xrange(
        createKeys(stack.config.KEY_PREFIX).history('/orders', `order:${orderId}`),
        '-',
        '+',
      )) as Array<[string, string[]]>;
      return await Promise.all(
        ids.map(async (id) => {
          const job = await queue.getJob(id);
          return {
            id,
            state: job ? await job.getState() : 'no job',
            attemptsMade: job?.attemptsMade,
            failedReason: job?.failedReason,
            stalled: job
              ? (job as unknown as { stalledCounter?: number }).stalledCounter
              : undefined,
            inHistory: history.find(([, f]) => f[1] === id)?.[0] ?? false,
          };
        }),
      );
    } finally {
      await queue.close();
      direct.disconnect();
    }
  }

  /** Stops Redis (SIGTERM: graceful, or SIGKILL) for OUTAGE_MS and starts it again on the same port and AOF. */
  const restartRedis = (graceful: boolean) => async (down: (on: boolean) => void) => {
    down(true);
    const t0 = Date.now();
    await redis.stopProcess(graceful);
    const t1 = Date.now();
    await sleep(OUTAGE_MS); // the outage itself
    const t2 = Date.now();
    await redis.startProcess();
    down(false);
    return `stop took ${t1 - t0} ms, restart until PONG ${Date.now() - t2} ms`;
  };

  function report(label: string, r: Awaited<ReturnType<typeof faultRun>>) {
    const codes = new Map<string, number>();
    for (const o of r.refused)
      codes.set(`${o.status} ${o.code}`, (codes.get(`${o.status} ${o.code}`) ?? 0) + 1);
    const maxRefusedMs = Math.max(0, ...r.refused.map((o) => o.ms));
    const maxOkMs = Math.max(0, ...r.outcomes.filter((o) => o.status === 202).map((o) => o.ms));
    const whileDown = r.outcomes.filter((o) => o.duringOutage);
    console.log(
      `fault: ${label} (${r.faultInfo}): ${r.outcomes.length + BURST} POSTs, ${r.accepted.length} x 202, ${r.refused.length} refused ` +
        `(${[...codes].map(([k, v]) => `${v} x ${k}`).join(', ') || 'none'}; ${whileDown.filter((o) => o.status !== 202).length}/${whileDown.length} sent from the stop until the restart answered), slowest refusal ${maxRefusedMs} ms, slowest 202 ${maxOkMs} ms; ` +
        `client got ${r.accepted.length - r.missing.length}/${r.accepted.length} accepted (${r.missing.length} missing, ${r.client.tracker.duplicates} duplicates) ` +
        `and ${r.appliedDespiteRefusal} events whose POST got a 503; ` +
        `${r.backlog}/${BURST} of the burst still queued at the fault, ${r.late} delivered late (stalled job re-run, lock ${LOCK_MS} ms); ${r.client.connects() - 1} client reconnects, ` +
        `joins acked ${JSON.stringify(r.client.acks.map((a) => (a.ok ? (a.data?.recovered ?? 'plain') : a.error?.code)))}; ` +
        `first 202 sent ${r.firstOkAfterMs} ms after the fault, the last accepted event delivered ${r.deliveredAfterMs} ms after the producer stopped`,
    );
  }

  /**
   * The outage was real, the gateway took events again by itself, and every refusal was a typed
   * `unavailable` within the enqueue timeout (plus scheduling slack): never a hang or a 500.
   */
  function expectOutageHandled(r: Awaited<ReturnType<typeof faultRun>>): void {
    expect(r.refused.length).toBeGreaterThan(0);
    expect(r.acceptedAfterFault).toBeGreaterThan(0);
    for (const o of r.refused)
      expect({ status: o.status, code: o.code }).toEqual({ status: 503, code: 'unavailable' });
    expect(Math.max(...r.refused.map((o) => o.ms))).toBeLessThan(ENQUEUE_TIMEOUT_MS + 1000);
  }

  it('SIGTERM (graceful, AOF flushed): every 202 is delivered; requests meanwhile get a typed 503 in bounded time', async () => {
    const r = await faultRun('graceful', restartRedis(true));
    report(`redis SIGTERM, ${OUTAGE_MS} ms down`, r);
    expectOutageHandled(r);
    expect({ missing: r.missing.length, sample: r.missing.slice(0, 5) }).toEqual({
      missing: 0,
      sample: [],
    });
    // A 503 means "not known to be accepted", not "not accepted": a write Redis applied just before
    // it went away, whose reply was lost, is delivered although its POST got a 503 (counted in the
    // report). Anything else delivered without a 202 is a bug.
    expect(r.unexplained).toEqual([]);
  }, 60_000);

  it('SIGKILL (no shutdown): the stack recovers; what was lost, if anything, is reported', async () => {
    const r = await faultRun('killed', restartRedis(false));
    report(`redis SIGKILL, ${OUTAGE_MS} ms down`, r);
    expectOutageHandled(r);
    // appendfsync everysec: a write Redis acknowledged is in the AOF file (the OS page cache) before
    // the reply, so killing the process alone should lose nothing; only a host crash (or an fsync
    // stalled for 2 s) can lose up to about a second. Not asserted: reported above as `missing`.
    expect(r.unexplained).toEqual([]);
  }, 60_000);

  it('the gateway adapter subscriber connection alone is dropped: every 202 still reaches the client', async () => {
    const admin = new Redis(redis.url);
    try {
      const r = await faultRun('subdrop', async () => {
        // As Redis does itself to a pub/sub client over its output-buffer limit, or a proxy would.
        for (let i = 0; i < 3; i++) {
          const list = String(await admin.client('LIST'));
          const ids = [...list.matchAll(/^id=(\d+) .*name=sb-adapter-sub /gm)].map((m) => m[1]!);
          expect(ids.length).toBe(1);
          await admin.client('KILL', 'ID', ids[0]!);
          await sleep(400); // the fault: three drops, 400 ms apart
        }
        return 'CLIENT KILL of sb-adapter-sub, 3 times 400 ms apart';
      });
      report('adapter subscriber connection dropped', r);
      expect(r.refused).toEqual([]);
      expect({ missing: r.missing.length, sample: r.missing.slice(0, 5) }).toEqual({
        missing: 0,
        sample: [],
      });
      expect(r.unexplained).toEqual([]);
    } finally {
      admin.disconnect();
    }
  }, 60_000);
});
