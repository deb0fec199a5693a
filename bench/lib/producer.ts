/**
 * Producer process (forked with IPC, config from the environment). Sends the bench event on one
 * path, with the same payload and the send time in `note`, either at a paced rate (e2e) or as fast
 * as it can with bounded memory (throughput, `flood`):
 * - queued:     EventManager.emitToOrder -> delivery batch job -> worker process -> adapter message.
 * - emitter:    @socket.io/redis-emitter straight into the gateway's adapter channel.
 * - http:       POST /api/events, one event per request, keep-alive agent (64 sockets).
 * - http-batch: POST /api/events/batch, the events of one pacing tick per request.
 */
import http from 'node:http';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { Emitter } from '@socket.io/redis-emitter';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config';
import { queueNames } from '../../src/wire/delivery-batch';
import { newEventId } from '../../src/ids';
import { createKeys } from '../../src/redis/keys';
import { openRuntime } from '../../src/app/runtime';
import {
  BENCH_EVENT,
  BENCH_NS,
  BENCH_ORDER,
  BENCH_ROOM,
  encodeNote,
  paddedNote,
  type FloodArgs,
  type SendArgs,
  type SendResult,
} from './protocol';
import { serve } from './procs';
import { clock, Histogram } from './stats';

/** Pacing tick: small batches every few ms keep the rate smooth without a busy loop. */
const TICK_MS = 2;

interface HttpAnswer {
  status: number;
  body: string;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const runtime = await openRuntime(config);
  const keys = createKeys(config.KEY_PREFIX);
  // The emitter gets a connection of its own, as a separate publishing service would have. It has
  // no sharded mode: on a cluster there is no emitter path.
  const emitterRedis = config.REDIS_MODE === 'cluster' ? undefined : new Redis(config.REDIS_URL);
  const emitter = emitterRedis && new Emitter(emitterRedis, { key: keys.adapterKey }).of(BENCH_NS);
  const toEmitter = () => {
    if (!emitter)
      throw new Error(
        'the emitter path needs standalone Redis (@socket.io/redis-emitter has no sharded mode)',
      );
    return { emitter, emitterRedis };
  };
  // Queues of this deployment, for backlog counts and drains between runs (not for sending).
  const names = queueNames(config.QUEUE_NAME);
  const queues = [names.delivery, names.handlers].map(
    (name) =>
      new Queue(name, {
        connection: runtime.redis,
        prefix: keys.bullPrefix,
        skipWaitingForReady: true,
      }),
  );
  for (const q of queues) q.on('error', () => undefined);

  // One keep-alive pool to the gateway, as a backend service calling the publish API would use.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const authorization = `Bearer ${config.PUBLISH_TOKEN}`;
  const post = (pathname: string, payload: unknown): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(payload);
      const req = http.request(
        {
          host: '127.0.0.1',
          port: config.PORT,
          path: pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  function send({ path, run, rate, count, flood, noteBytes }: SendArgs): Promise<SendResult> {
    const accepted = new Histogram();
    let failed = 0;
    let sent = 0;
    let requests = 0;
    let firstError: string | undefined;
    let firstSendAt = 0;
    let lastSendAt = 0;
    let inFlight = 0;
    let peakInFlight = 0;
    let wake: (() => void) | undefined;
    const fail = (n: number, why: unknown) => {
      failed += n;
      firstError ??= why instanceof Error ? why.message : String(why);
    };
    /** Tracks one accept promise: bounded in-flight count, wakes a waiting flood loop. */
    const track = (work: Promise<void>, n: number) => {
      inFlight += n;
      if (inFlight > peakInFlight) peakInFlight = inFlight;
      void work
        .catch((err: unknown) => fail(n, err))
        .finally(() => {
          inFlight -= n;
          if (wake) {
            const w = wake;
            wake = undefined;
            w();
          }
        });
    };
    const waitForRoom = () => new Promise<void>((r) => (wake = r));

    const dataOf = (seq: number, sentAt: number) => ({
      orderId: BENCH_ORDER,
      status: 'shipped' as const,
      note: noteBytes ? paddedNote(run, seq, sentAt, noteBytes) : encodeNote(run, seq, sentAt),
    });
    // The http-batch path: the events of the current tick, sent together by flushTick().
    let tickBatch: Array<{ data: ReturnType<typeof dataOf>; sentAt: number }> = [];

    const sendOne = (seq: number) => {
      const sentAt = clock();
      const data = dataOf(seq, sentAt);
      if (path === 'queued') {
        track(
          runtime.events.emitToOrder(BENCH_EVENT, BENCH_ORDER, data).then(
            () => accepted.record(clock() - sentAt),
            (err: unknown) => fail(1, err),
          ),
          1,
        );
      } else if (path === 'http') {
        requests++;
        track(
          post('/api/events', { event: BENCH_EVENT, target: { orderId: BENCH_ORDER }, data }).then(
            (res) =>
              res.status === 202
                ? accepted.record(clock() - sentAt)
                : fail(1, `HTTP ${res.status} ${res.body.slice(0, 300)}`),
            (err: unknown) => fail(1, err),
          ),
          1,
        );
      } else if (path === 'http-batch') {
        tickBatch.push({ data, sentAt });
      } else {
        // Same (data, meta) shape as the worker's publish, so frames are the same size.
        const meta = { id: newEventId(), ts: Date.now(), ns: BENCH_NS, room: BENCH_ROOM };
        toEmitter().emitter.to(BENCH_ROOM).emit(BENCH_EVENT, data, meta);
      }
      lastSendAt = sentAt;
    };

    const flushTick = () => {
      if (tickBatch.length === 0) return;
      const items = tickBatch;
      tickBatch = [];
      requests++;
      const events = items.map((i) => ({
        event: BENCH_EVENT,
        target: { orderId: BENCH_ORDER },
        data: i.data,
      }));
      track(
        post('/api/events/batch', { events }).then(
          (res) => {
            if (res.status !== 200)
              return fail(items.length, `HTTP ${res.status} ${res.body.slice(0, 300)}`);
            const answer = JSON.parse(res.body) as {
              results?: Array<{ id?: string; error?: unknown }>;
            };
            const now = clock();
            items.forEach((item, i) => {
              const r = answer.results?.[i];
              if (r && r.id !== undefined && r.error === undefined)
                accepted.record(now - item.sentAt);
              else fail(1, `batch item refused: ${JSON.stringify(r ?? answer).slice(0, 300)}`);
            });
          },
          (err: unknown) => fail(items.length, err),
        ),
        items.length,
      );
    };

    const finish = async (): Promise<SendResult> => {
      while (inFlight > 0) await waitForRoom();
      return {
        sent,
        failed,
        firstSendAt,
        lastSendAt,
        ...(firstError !== undefined ? { firstError } : {}),
        ...(path === 'http' || path === 'http-batch' ? { requests } : {}),
        ...(flood ? { peakInFlight } : {}),
        ...(path !== 'emitter'
          ? { accepted: { hist: accepted.toSparse(), max: accepted.max, sum: accepted.sum } }
          : {}),
      };
    };

    if (flood) return sendFlood(flood);

    return new Promise((resolve, reject) => {
      const start = clock();
      firstSendAt = start;
      const tick = () => {
        const due = Math.min(count, Math.floor(((clock() - start) * rate) / 1000) + 1);
        while (sent < due) sendOne(sent++);
        flushTick();
        if (sent < count) {
          setTimeout(tick, TICK_MS);
          return;
        }
        finish().then(resolve, reject);
      };
      tick();
    });

    /** As fast as possible for durationMs, never more than maxInFlight accepts outstanding. */
    async function sendFlood({
      durationMs,
      maxCount,
      maxInFlight,
      yieldEvery,
    }: FloodArgs): Promise<SendResult> {
      if (path !== 'queued' && path !== 'emitter')
        throw new Error(`flood supports queued and emitter, not ${path}`);
      const start = clock();
      firstSendAt = start;
      const end = start + durationMs;
      // Emitter: a PING behind each chunk of publishes; the next chunk waits for the previous PING.
      let fence: Promise<unknown> | undefined;
      while (sent < maxCount) {
        if (inFlight >= maxInFlight) {
          await waitForRoom();
          continue;
        }
        sendOne(sent++);
        if (sent % yieldEvery === 0) {
          if (clock() >= end) break;
          await yieldLoop();
        }
        if (path === 'emitter' && sent % maxInFlight === 0) {
          const next = toEmitter().emitterRedis.ping();
          if (fence) await fence;
          fence = next;
        }
      }
      if (fence) await fence;
      return finish();
    }
  }

  serve({
    send: (args: SendArgs) => send(args),
    /** Jobs left in the delivery and handler queues after a run (a saturated step leaves a backlog). */
    counts: async () => {
      const out: Record<string, number> = {};
      for (const q of queues) {
        for (const [state, n] of Object.entries(
          await q.getJobCounts(
            'waiting',
            'active',
            'delayed',
            'prioritized',
            'failed',
            'completed',
          ),
        )) {
          out[state] = (out[state] ?? 0) + n;
        }
      }
      return out;
    },
    /** Drops a backlog so it does not load the next step (its events would be stale anyway). */
    drain: async () => {
      for (const q of queues) await q.drain(true);
    },
    clock: () => clock(),
  });
  process.send?.({ event: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`producer failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
