import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import type { EventMeta } from '../src/catalog';
import { loadConfig } from '../src/config';
import { startGateway } from '../src/gateway/server';
import { startDeliveryWorker } from '../workers/delivery-worker';

/**
 * Throttle benchmark: one hot key (post_liked on one post, `latest` 1,000 ms) at RATE likes/s for
 * DURATION_MS through EventManager.emit, one gateway, one worker and one listening client, on a
 * private redis-server (so INFO commandstats counts only this run) when one can be started.
 * Reports Redis commands per like, emits per window, accepted likes/s and accept latency.
 */
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const TICK_MS = 10;
const ROOT = __dirname.split(path.sep).includes('dist') ? path.resolve(__dirname, '../..') : path.resolve(__dirname, '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A throwaway redis-server on loopback (no persistence); undefined if none can be started. */
async function privateRedis(): Promise<{ url: string; child: ChildProcess } | undefined> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise<undefined>((resolve) => child.once('error', () => resolve(undefined)));
  const url = `redis://127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined);
      const ok = await probe.connect().then(() => probe.ping(), () => undefined);
      probe.disconnect();
      if (ok === 'PONG') return { url, child };
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    return undefined;
  })();
  return Promise.race([ready, failed]);
}

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const stats = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(match[1] as string, Number(match[2]));
  return stats;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function runThrottleBench(): Promise<object> {
  const own = await privateRedis();
  const redisUrl = own?.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const config = loadConfig({ REDIS_URL: redisUrl, KEY_PREFIX: `bench-throttle-${process.pid}`, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  const gateway = await startGateway(config);
  const worker = await startDeliveryWorker(config);
  const stats = new Redis(redisUrl);
  const client = io(`http://127.0.0.1:${gateway.port}/social`, { transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('connect_error', reject));
    await client.timeout(5000).emitWithAck('join_post', { postId: 'hot' });
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
    const producer = gateway.runtime.redis;
    const send = producer.sendCommand.bind(producer);
    producer.sendCommand = ((...args: Parameters<typeof send>) => {
      clientCommands++;
      return send(...args);
    }) as typeof producer.sendCommand;
    const before = await commandStats(stats);
    const latencies: number[] = [];
    const windowIds = new Set<string>();
    const inFlight: Promise<void>[] = [];
    let sent = 0;
    let failed = 0;
    const start = performance.now();
    const perTick = (RATE * TICK_MS) / 1000;
    for (let tick = 0; performance.now() - start < DURATION_MS; tick++) {
      const due = Math.min(Math.floor(((performance.now() - start) / 1000) * RATE), Math.round((DURATION_MS / 1000) * RATE));
      while (sent < due) {
        const likeCount = ++sent;
        const t0 = performance.now();
        inFlight.push(
          gateway.runtime.events.emit('post_liked', { postId: 'hot', userId: `u${likeCount % 1000}`, likeCount }).then(
            ({ id }) => {
              latencies.push(performance.now() - t0);
              windowIds.add(id);
            },
            () => void failed++,
          ),
        );
      }
      await new Promise((r) => setTimeout(r, Math.max(0, start + (tick + 1) * TICK_MS - performance.now())));
    }
    await Promise.all(inFlight);
    const acceptSeconds = (performance.now() - start) / 1000;
    const deadline = Date.now() + 10_000;
    while (coalescedTotal < latencies.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const after = await commandStats(stats);

    const delta = new Map<string, number>();
    for (const [cmd, calls] of after) delta.set(cmd, calls - (before.get(cmd) ?? 0));
    delta.set('info', (delta.get('info') ?? 0) - 1); // the bench's own INFO
    const totalCommands = [...delta.values()].reduce((a, b) => a + b, 0);
    const accepted = latencies.length;
    const sorted = [...latencies].sort((a, b) => a - b);
    const emitCounts = [...emitsById.values()];
    const topCommands = Object.fromEntries([...delta.entries()].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).slice(0, 8));
    return {
      scenario: `one hot key (post_liked, latest 1000 ms) at ${RATE} likes/s for ${DURATION_MS / 1000} s; EventManager.emit in the gateway process, 1 worker, 1 client`,
      redis: own ? 'private redis-server (commandstats count this run only)' : 'shared Redis (other traffic may inflate command counts)',
      perTick,
      offered: sent,
      accepted,
      failedOrTimedOut: failed,
      acceptedPerSecond: Math.round(accepted / acceptSeconds),
      acceptLatencyMs: { p50: +percentile(sorted, 50).toFixed(2), p99: +percentile(sorted, 99).toFixed(2), max: +(sorted.at(-1) ?? 0).toFixed(2) },
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
      emitsPerWindow: { mean: +(emitCounts.reduce((a, b) => a + b, 0) / Math.max(1, windowIds.size)).toFixed(3), max: Math.max(0, ...emitCounts) },
      everyWindowEmittedOnce: emitCounts.length === windowIds.size && emitCounts.every((n) => n === 1),
      coalescedTotal,
      lastLikeCount,
      note: 'the like counter (INCR) of the example domain route is not included: add 1 command per like for POST /api/posts/:id/like',
    };
  } finally {
    client.disconnect();
    await worker.close();
    await gateway.close();
    stats.disconnect();
    own?.child.kill('SIGTERM');
  }
}

if (require.main === module) {
  runThrottleBench().then(
    (result) => {
      const file = path.join(ROOT, 'bench/results/throttle.json');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${file}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`throttle bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
