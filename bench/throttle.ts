import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import type { EventMeta } from '../src/catalog';
import { loadConfig } from '../src/config';
import { openGateway } from '../src/app/gateway';
import type { Gateway } from '../src/gateway/server';
import { openWorker } from '../src/app/worker';
import { benchDeploymentEnv, mintBenchTokens } from './lib/auth';
import { commandStats, privateRedis } from './lib/redis';
import { machineFacts, ROOT, writeResult } from './lib/report';

/**
 * Throttle benchmark: one hot key (post_liked on one post, `latest` 1,000 ms) at `rate` likes/s
 * for `durationMs` through EventManager.emit, one gateway, one worker and one listening client, on
 * a private redis-server (so INFO commandstats counts only this run) when one can be started.
 * Reports Redis commands per like, emits per window, accepted likes/s and accept latency.
 * `npm run bench` runs it as scenario `throttle`; `node dist/bench/throttle.js` runs it alone
 * (BENCH_RATE, BENCH_DURATION_MS) and writes bench/results/throttle.json.
 */
export interface ThrottleOptions {
  /** Used only when no private redis-server can be started. */
  redisUrl: string;
  rate: number;
  durationMs: number;
}

export const THROTTLE_DEFAULTS: Omit<ThrottleOptions, 'redisUrl'> = {
  rate: 10_000,
  durationMs: 10_000,
};

const TICK_MS = 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function runThrottleBench(opts: ThrottleOptions): Promise<object> {
  const { rate: RATE, durationMs: DURATION_MS } = opts;
  const own = await privateRedis('throttle-redis');
  const redisUrl = own?.url ?? opts.redisUrl;
  process.stdout.write(
    `[throttle] ${own ? `private redis-server pid ${own.proc.pid} at ${own.url}` : `no private redis-server; using ${opts.redisUrl}`}\n`,
  );
  // The gateway runs in this process: the tokens are minted with the very config it verifies with.
  const env = {
    REDIS_URL: redisUrl,
    KEY_PREFIX: `bench-throttle-${Date.now().toString(36)}-${process.pid}`,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...benchDeploymentEnv(),
  };
  const config = loadConfig({ ...process.env, ...env });
  // The likes are emitted in-process (EventManager.emit), not sent by the client, so the client
  // rate limits (RATE_*) never apply to them; the client sends one join_post, with its own user.
  const [token] = await mintBenchTokens(config, 'bench-throttle', 1);
  const stats = new Redis(redisUrl);
  let gateway: Gateway | undefined;
  let worker: Awaited<ReturnType<typeof openWorker>> | undefined;
  let client: ReturnType<typeof io> | undefined;
  try {
    gateway = await openGateway(config);
    worker = await openWorker(config);
    client = io(`http://127.0.0.1:${gateway.port}/social`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token },
    });
    await new Promise<void>((resolve, reject) =>
      client!
        .once('connect', resolve)
        .once('connect_error', (err: Error) =>
          reject(new Error(`throttle client connect_error: ${err.message}`)),
        ),
    );
    const joined = (await client.timeout(5000).emitWithAck('join_post', { postId: 'hot' })) as {
      ok: boolean;
    };
    if (!joined.ok) throw new Error(`join_post refused: ${JSON.stringify(joined)}`);
    const emitsById = new Map<string, number>();
    let coalescedTotal = 0;
    let lastLikeCount = 0;
    client.on('post_liked', (data: { likeCount: number }, meta: EventMeta) => {
      emitsById.set(meta.id, (emitsById.get(meta.id) ?? 0) + 1);
      coalescedTotal += meta.coalesced ?? 0;
      lastLikeCount = data.likeCount;
    });

    // Commands the accepting process sends (its EventManager's connection), counted at the client.
    let clientCommands = 0;
    // The bench runs standalone Redis: count the commands the gateway's connection sends.
    const producer = gateway.runtime.redis as Redis;
    const send = producer.sendCommand.bind(producer);
    producer.sendCommand = (...args: Parameters<typeof send>) => {
      clientCommands++;
      return send(...args);
    };
    const before = await commandStats(stats);
    const latencies: number[] = [];
    const windowIds = new Set<string>();
    const inFlight: Promise<void>[] = [];
    let sent = 0;
    let failed = 0;
    const start = performance.now();
    const perTick = (RATE * TICK_MS) / 1000;
    const events = gateway.runtime.events;
    const sendDue = (due: number) => {
      while (sent < due) {
        const likeCount = ++sent;
        const t0 = performance.now();
        inFlight.push(
          events
            .emit('post_liked', { postId: 'hot', userId: `u${likeCount % 1000}`, likeCount })
            .then(
              ({ id }) => {
                latencies.push(performance.now() - t0);
                windowIds.add(id);
              },
              () => {
                failed++;
              },
            ),
        );
      }
    };
    for (let tick = 0; performance.now() - start < DURATION_MS; tick++) {
      sendDue(
        Math.min(
          Math.floor(((performance.now() - start) / 1000) * RATE),
          Math.round((DURATION_MS / 1000) * RATE),
        ),
      );
      await new Promise((r) =>
        setTimeout(r, Math.max(0, start + (tick + 1) * TICK_MS - performance.now())),
      );
    }
    // The loop ends up to one tick short of rate x duration; offer the rest so `offered` is exact.
    sendDue(Math.round((DURATION_MS / 1000) * RATE));
    await Promise.all(inFlight);
    const acceptSeconds = (performance.now() - start) / 1000;
    const deadline = Date.now() + 10_000;
    while (coalescedTotal < latencies.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const after = await commandStats(stats);

    const delta = new Map<string, number>();
    for (const [cmd, calls] of after) delta.set(cmd, calls - (before.get(cmd) ?? 0));
    delta.set('info', (delta.get('info') ?? 0) - 1); // the bench's own INFO
    const totalCommands = [...delta.values()].reduce((a, b) => a + b, 0);
    const accepted = latencies.length;
    const sorted = [...latencies].sort((a, b) => a - b);
    const emitCounts = [...emitsById.values()];
    const topCommands = Object.fromEntries(
      [...delta.entries()]
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8),
    );
    return {
      setup: {
        ...machineFacts(),
        redisVersion: /redis_version:(\S+)/.exec(await stats.info('server'))?.[1] ?? 'unknown',
        auth: `AUTH_MODE=${config.AUTH_MODE}; the client joins with a minted JWT`,
      },
      scenario: `one hot key (post_liked, latest 1000 ms) at ${RATE} likes/s for ${DURATION_MS / 1000} s; EventManager.emit in the gateway process, 1 worker, 1 client`,
      redis: own
        ? 'private redis-server (commandstats count this run only)'
        : 'shared Redis (other traffic may inflate command counts)',
      perTick,
      offered: sent,
      accepted,
      failedOrTimedOut: failed,
      acceptedPerSecond: Math.round(accepted / acceptSeconds),
      acceptLatencyMs: {
        p50: +percentile(sorted, 50).toFixed(2),
        p99: +percentile(sorted, 99).toFixed(2),
        max: +(sorted.at(-1) ?? 0).toFixed(2),
      },
      // Every command Redis executed in the run (worker, BullMQ, adapter, and the calls made inside
      // Lua scripts) divided by likes: the server-side work per like.
      redisCommandsPerLike: +(totalCommands / accepted).toFixed(4),
      // Commands the accepting process sent per like (round trips it pays): the EVALSHA, plus one
      // delayed flush job per window.
      clientCommandsPerLike: +(clientCommands / sent).toFixed(4),
      evalshaPerLike: +((delta.get('evalsha') ?? 0) / accepted).toFixed(4),
      topCommands,
      windows: windowIds.size,
      emits: emitCounts.reduce((a, b) => a + b, 0),
      emitsPerWindow: {
        mean: +(emitCounts.reduce((a, b) => a + b, 0) / Math.max(1, windowIds.size)).toFixed(3),
        max: Math.max(0, ...emitCounts),
      },
      everyWindowEmittedOnce:
        emitCounts.length === windowIds.size && emitCounts.every((n) => n === 1),
      coalescedTotal,
      lastLikeCount,
      note: 'the like counter (INCR) of the example domain route is not included: add 1 command per like for POST /api/posts/:id/like',
    };
  } finally {
    client?.disconnect();
    await worker?.close().catch(() => undefined);
    await gateway?.close().catch(() => undefined);
    // On the shared Redis (no private server), remove what this run left under its prefix.
    if (!own && stats.status === 'ready')
      await deleteByPrefix(stats, config.KEY_PREFIX).catch(() => undefined);
    stats.disconnect();
    await own?.proc.kill();
  }
}

async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Runs the scenario and writes its result to `outFile`. */
export async function runThrottle(opts: ThrottleOptions, outFile: string): Promise<unknown> {
  const result = await runThrottleBench(opts);
  const r = result as {
    acceptedPerSecond: number;
    offered: number;
    accepted: number;
    failedOrTimedOut: number;
    acceptLatencyMs: { p50: number; p99: number };
    redisCommandsPerLike: number;
    windows: number;
    emitsPerWindow: { mean: number };
    everyWindowEmittedOnce: boolean;
    redis: string;
  };
  process.stdout.write(
    `[throttle] ${opts.rate}/s for ${opts.durationMs / 1000} s: offered ${r.offered} accepted ${r.accepted} (${r.acceptedPerSecond}/s) failed ${r.failedOrTimedOut}  ` +
      `accept p50 ${r.acceptLatencyMs.p50} p99 ${r.acceptLatencyMs.p99} ms  redis cmds/like ${r.redisCommandsPerLike}  windows ${r.windows} emits/window ${r.emitsPerWindow.mean} ` +
      `(every window once: ${r.everyWindowEmittedOnce})  ${r.redis}\n`,
  );
  writeResult(outFile, result);
  process.stdout.write(`[throttle] wrote ${outFile}\n`);
  return result;
}

if (require.main === module) {
  const opts: ThrottleOptions = {
    redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    rate: Number(process.env.BENCH_RATE ?? THROTTLE_DEFAULTS.rate),
    durationMs: Number(process.env.BENCH_DURATION_MS ?? THROTTLE_DEFAULTS.durationMs),
  };
  runThrottle(opts, path.join(ROOT, 'bench/results/throttle.json')).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(
        `throttle bench failed: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
