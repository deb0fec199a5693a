/**
 * What the HTTP publish path costs the gateway: requests/s and gateway CPU microseconds per request
 * for `POST /api/events` (one event) and `POST /api/events/batch` (10 events), beside a bare
 * `node:http` server that reads, parses and answers 202 (bench/lib/bare-http.ts), under the same
 * fixed-concurrency load (keep-alive connections, each sending its next request when the previous
 * one is answered). Gateways run as deployed: `node dist/src/app/gateway-main.js` with
 * NODE_ENV=production, fresh secrets, ADMIN_TOKEN set and the Admin UI as production leaves it
 * (off); a second gateway with ADMIN_UI=on reports what the Admin UI costs. No worker runs: the
 * queue only grows, which is what intake sees. Targets alternate within each round, so the noise
 * of a shared machine falls on all of them alike; medians of the rounds are reported.
 */
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { benchDeploymentEnv } from './lib/auth';
import { freePort } from './lib/free-port';
import { cpuSeconds, onInterrupt, spawnNode, type Proc } from './lib/procs';
import { BENCH_EVENT, BENCH_ORDER, encodeNote } from './lib/protocol';
import { privateRedis } from './lib/redis';
import { ROOT, runFacts, writeResult } from './lib/report';
import { Histogram, median, ratio, round } from './lib/stats';

export interface IntakeOptions {
  redisUrl: string;
  /** Connections, each with one request in flight. */
  concurrency: number;
  warmupS: number;
  /** How long each target's idle CPU is measured before its load (netCpuUsPerRequest). */
  idleS: number;
  durationS: number;
  rounds: number;
  batchSize: number;
}

export const INTAKE_DEFAULTS: Omit<IntakeOptions, 'redisUrl'> = {
  concurrency: 64,
  warmupS: 1,
  idleS: 2,
  durationS: 4,
  rounds: 3,
  batchSize: 10,
};

interface Target {
  name: string;
  port: () => number;
  pid: () => number;
  path: string;
  body: (seq: number) => string;
  headers: Record<string, string>;
  /** Events per request (10 for the batch route). */
  events: number;
}

interface Sample {
  requests: number;
  errors: number;
  perSec: number;
  cpuUsPerRequest: number;
  /** The same, less what the process spends with no request at all (timers, heartbeats, scrapes). */
  netCpuUsPerRequest: number;
  p50: number;
  p99: number;
}

function eventBody(seq: number) {
  return {
    event: BENCH_EVENT,
    target: { orderId: BENCH_ORDER },
    data: { orderId: BENCH_ORDER, status: 'shipped', note: encodeNote(1, seq, 0) },
  };
}

/** Fixed-concurrency load on one target for `seconds`: every connection loops request -> answer. */
/** CPU seconds per second a process spends with no load (its timers, heartbeats, Redis pings). */
async function idleCpuPerSec(pid: number, seconds: number): Promise<number> {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000);
}

async function load(
  target: Target,
  opts: IntakeOptions,
  seconds: number,
  idlePerSec = 0,
): Promise<Sample> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const hist = new Histogram();
  let requests = 0;
  let errors = 0;
  let seq = 0;
  const until = performance.now() + seconds * 1000;
  const cpu0 = cpuSeconds(target.pid());
  const t0 = performance.now();
  const one = () =>
    new Promise<void>((resolve) => {
      const body = target.body(seq++);
      const sent = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port: target.port(),
          path: target.path,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...target.headers,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            hist.record(performance.now() - sent);
            // 202 for one event, 200 (with per-item results) for a batch.
            if (res.statusCode === 202 || res.statusCode === 200) requests++;
            else errors++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < until) await one();
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(target.pid()) - cpu0;
  agent.destroy();
  const s = hist.summary();
  const answered = Math.max(1, requests + errors);
  return {
    requests,
    errors,
    perSec: round(requests / elapsed, 1),
    cpuUsPerRequest: round((cpu * 1e6) / answered, 1),
    netCpuUsPerRequest: round(((cpu - idlePerSec * elapsed) * 1e6) / answered, 1),
    p50: s.p50,
    p99: s.p99,
  };
}

export async function runIntake(opts: IntakeOptions, outFile: string): Promise<unknown> {
  const loadBefore = os.loadavg();
  const own = await privateRedis('intake-redis');
  const redisUrl = own?.url ?? opts.redisUrl;
  const prefix = `bench-intake-${Date.now().toString(36)}`;
  const procs: Proc[] = own ? [own.proc] : [];
  const stop = async () => {
    for (const p of procs.reverse()) await p.kill();
    // A private Redis is gone with its process; a shared one keeps nothing of this run.
    if (own) return;
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const keys = await redis.keys(`${prefix}*`);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    } catch {
      // Nothing to clean if it cannot be reached.
    }
    redis.disconnect();
  };
  const unregister = onInterrupt(stop);
  try {
    const auth = benchDeploymentEnv();
    const production = {
      ...auth,
      REDIS_URL: redisUrl,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    const gateway = async (name: string, extra: Record<string, string>) => {
      const port = await freePort();
      const proc = spawnNode(name, path.join(ROOT, 'dist/src/app/gateway-main.js'), {
        ...production,
        ...extra,
        PORT: String(port),
        KEY_PREFIX: `${prefix}-${name}`,
        LOG_LEVEL: 'info',
      });
      procs.push(proc);
      await proc.waitForOutput('gateway ready', 30_000);
      return { port, proc };
    };
    const barePort = await freePort();
    const bare = spawnNode('bare-http', path.join(ROOT, 'dist/bench/lib/bare-http.js'), {
      PORT: String(barePort),
      HOST: '127.0.0.1',
    });
    procs.push(bare);
    await bare.waitForOutput('bare-http ready');
    const gw = await gateway('gateway', {});
    const gwUi = await gateway('gateway-admin-ui', { ADMIN_UI: 'on' });
    const bearer = { authorization: `Bearer ${auth.PUBLISH_TOKEN as string}` };
    const single = (seq: number) => JSON.stringify(eventBody(seq));
    const batch = (seq: number) =>
      JSON.stringify({
        events: Array.from({ length: opts.batchSize }, (_, i) => eventBody(seq * 100 + i)),
      });
    const pidOf = (p: Proc) => () => p.child.pid ?? -1;
    const targets: Target[] = [
      {
        name: 'bare node:http',
        port: () => barePort,
        pid: pidOf(bare),
        path: '/',
        body: single,
        headers: {},
        events: 1,
      },
      {
        name: 'POST /api/events',
        port: () => gw.port,
        pid: pidOf(gw.proc),
        path: '/api/events',
        body: single,
        headers: bearer,
        events: 1,
      },
      {
        // The same gateway and route through express: a query string is not a hot path (the
        // answer is the same; test/api/hot-routes.test.ts compares them), so this is the cost of
        // the route before the hot path, measured beside it.
        name: 'POST /api/events via express',
        port: () => gw.port,
        pid: pidOf(gw.proc),
        path: '/api/events?via=express',
        body: single,
        headers: bearer,
        events: 1,
      },
      {
        name: `POST /api/events/batch (${opts.batchSize})`,
        port: () => gw.port,
        pid: pidOf(gw.proc),
        path: '/api/events/batch',
        body: batch,
        headers: bearer,
        events: opts.batchSize,
      },
      {
        name: 'POST /api/events, ADMIN_UI=on',
        port: () => gwUi.port,
        pid: pidOf(gwUi.proc),
        path: '/api/events',
        body: single,
        headers: bearer,
        events: 1,
      },
    ];
    const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
    for (let r = 0; r < opts.rounds; r++) {
      for (const target of targets) {
        const idle = await idleCpuPerSec(target.pid(), opts.idleS);
        await load(target, opts, opts.warmupS);
        const sample = await load(target, opts, opts.durationS, idle);
        samples.get(target.name)?.push(sample);
        process.stdout.write(
          `[intake] ${r + 1}/${opts.rounds} ${target.name.padEnd(34)} ${String(sample.perSec).padStart(8)} req/s  ${String(sample.cpuUsPerRequest).padStart(7)} µs CPU/request (net of idle ${sample.netCpuUsPerRequest})  p50 ${sample.p50} p99 ${sample.p99} ms  errors ${sample.errors}\n`,
        );
      }
    }
    const summary = targets.map((t) => {
      const list = samples.get(t.name) ?? [];
      const cpu = median(list.map((s) => s.cpuUsPerRequest));
      const net = median(list.map((s) => s.netCpuUsPerRequest));
      return {
        target: t.name,
        eventsPerRequest: t.events,
        requestsPerSec: round(median(list.map((s) => s.perSec)), 1),
        cpuUsPerRequest: round(cpu, 1),
        cpuUsPerEvent: round(cpu / t.events, 1),
        netCpuUsPerRequest: round(net, 1),
        p50Ms: round(median(list.map((s) => s.p50))),
        p99Ms: round(median(list.map((s) => s.p99))),
        errors: list.reduce((n, s) => n + s.errors, 0),
        rounds: list,
      };
    });
    const floor = summary[0]?.cpuUsPerRequest ?? NaN;
    const netFloor = summary[0]?.netCpuUsPerRequest ?? NaN;
    const result = {
      scenario: 'intake',
      setup: {
        ...runFacts(loadBefore),
        ...opts,
        redisUrl: undefined,
        gateway:
          'dist/src/app/gateway-main.js, NODE_ENV=production, ADMIN_TOKEN set, ADMIN_UI off (production default) unless named',
        privateRedis: own !== undefined,
      },
      note: "gateway CPU per request from /proc (user+system) over the measured window, divided by the requests answered; net: less the process's own idle CPU rate measured just before (timers, heartbeats); medians of rounds, targets alternating",
      targets: summary.map(({ rounds: _rounds, ...rest }) => ({
        ...rest,
        xBare: ratio(rest.cpuUsPerRequest, floor),
        xBareNet: ratio(rest.netCpuUsPerRequest, netFloor),
      })),
      rounds: Object.fromEntries(summary.map((s) => [s.target, s.rounds])),
    };
    writeResult(outFile, result);
    return result;
  } finally {
    unregister();
    await stop();
  }
}
