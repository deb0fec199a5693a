import path from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, redactUrl, type Config } from '../../src/config';
import { queueNames } from '../../src/wire/delivery-batch';
import { createKeys } from '../../src/redis/keys';
import { benchDeploymentEnv, mintBenchTokens } from './auth';
import { freePort } from './free-port';
import type { ClientReport, FloodArgs, Path, SendArgs, SendResult, Timeline } from './protocol';
import {
  cpuSeconds,
  forkHelper,
  machineBusySeconds,
  onInterrupt,
  spawnNode,
  type Proc,
} from './procs';
import { privateCluster, privateRedis, RedisMeter, redisDelta, type RedisDelta } from './redis';
import { redisSetup, type CostPerEvent } from './report';
import { clock, Histogram, round, type LatencySummary } from './stats';

const DIST = path.resolve(__dirname, '../..');

export interface StackOptions {
  /** The Redis to use when no private redis-server can be started (or `privateRedis` is false). */
  redisUrl: string;
  clients: number;
  clientProcesses: number;
  /** Extra environment for the gateway, worker and producer (e.g. WORKER_CONCURRENCY). */
  env?: Record<string, string>;
  /** Start a redis-server of the stack's own on a loopback port (default true), so command counts are the stack's only. */
  privateRedis?: boolean;
  /**
   * Run on a Redis Cluster of the stack's own (3 masters on loopback ports) with REDIS_MODE=cluster,
   * instead of one redis-server. Redis CPU and commands are summed over the masters.
   */
  cluster?: boolean;
  /** Pads every event's note to this many characters (bigger messages); default: the bare note (~30). */
  noteBytes?: number;
  /** Per-second worst latencies in every RunResult (`timeline`). */
  timeline?: boolean;
}

export interface RunResult {
  path: Path;
  run: number;
  targetRate: number;
  durationS: number;
  sent: number;
  failedSends: number;
  achievedRate: number;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  duplicates: number;
  stale: number;
  deliveredPerSec: number;
  latency: LatencySummary;
  /** Queued path: send -> emit() resolved, i.e. the job is in Redis. */
  accepted?: LatencySummary;
  /** % of one core used by each process during the run (send start -> last receipt). */
  cpuPct: Record<string, number>;
  /** % of one core used by processes that are not the bench's (the machine is shared). */
  foreignCpuPct: number;
  /** How long the run waited for the machine to become quiet before starting. */
  quietWaitS: number;
  backlogDropped?: number;
  /** After an incomplete run: seconds until late events stopped arriving (they would load the next run). */
  settleS?: number;
  /** Requests made on the http paths. */
  requests?: number;
  /** Flood runs: the most emits awaiting acceptance at once. */
  peakInFlight?: number;
  /** The first failed send of the run, if any (HTTP status and body, or the error). */
  firstError?: string;
  /** Worker and Redis CPU, Redis commands and jobs per event (see CostPerEvent in report.ts). */
  cost: CostPerEvent;
  /** With StackOptions.timeline: per second of send time, the worst latency over every client and the deliveries over 100 ms. */
  timeline?: Timeline;
}

/**
 * One bench deployment: a gateway and a worker from their real compiled entry points, client
 * processes and a producer process, all on 127.0.0.1 under a unique key prefix.
 */
export class BenchStack {
  readonly prefix = `bench-${Date.now().toString(36)}-${process.pid}`;
  readonly procs: Proc[] = [];
  private clientProcs: Proc[] = [];
  private producer!: Proc;
  private redis!: Redis;
  private redisPid = NaN;
  private meter!: RedisMeter;
  /** The stack's redis-server when it runs its own (see StackOptions.privateRedis). */
  private ownRedisProcs: Proc[] = [];
  /** The Redis every process of the stack uses. */
  redisUrl = '';
  /** Commands per second of the idle stack (measureIdle()); a yardstick for the cost figures. */
  idleCommandsPerSec = NaN;
  private runCounter = 0;
  readonly completions = new Map<number, number>();
  port = 0;
  /** The worker's METRICS_PORT. */
  metricsPort = 0;
  private unregisterInterrupt: () => void = () => undefined;
  /** The configuration every process of this stack loads (same environment), set by start(). */
  config!: Config;

  constructor(readonly opts: StackOptions) {}

  async start(): Promise<void> {
    // Interrupted (Ctrl-C): the processes are killed by the exit hook; also delete the keys.
    this.unregisterInterrupt = onInterrupt(() => this.close());
    let nodeUrls: string[];
    if (this.opts.cluster) {
      const cluster = await privateCluster(3);
      this.ownRedisProcs = cluster.procs.map((proc) => this.track(proc));
      this.redisUrl = cluster.url;
      nodeUrls = cluster.nodeUrls;
    } else {
      const own = this.opts.privateRedis === false ? undefined : await privateRedis('redis-server');
      if (own) this.ownRedisProcs = [this.track(own.proc)];
      this.redisUrl = own?.url ?? this.opts.redisUrl;
      nodeUrls = [this.redisUrl];
    }
    // Server facts and key cleanup go to the first node (a cluster's keys are gone with it).
    this.redis = new Redis(nodeUrls[0] as string, { lazyConnect: true });
    await this.redis.connect();
    const info = await this.redis.info('server');
    this.redisPid = Number(/process_id:(\d+)/.exec(info)?.[1] ?? NaN);
    this.port = await freePort();
    this.metricsPort = await freePort();
    const env: Record<string, string> = {
      REDIS_URL: this.redisUrl,
      REDIS_MODE: this.opts.cluster ? 'cluster' : 'standalone',
      KEY_PREFIX: this.prefix,
      PORT: String(this.port),
      HOST: '127.0.0.1',
      // The worker's /metrics on a free port: no clash with an `npm start` on the same host.
      METRICS_PORT: String(this.metricsPort),
      LOG_LEVEL: 'info',
      ...benchDeploymentEnv(),
      ...this.opts.env,
    };
    // The children get process.env overlaid with `env` (spawnNode/forkHelper); loading the same
    // merge here gives the orchestrator the config they run with (JWT secret, issuer, audience),
    // and fails fast, before anything is spawned, if it is invalid.
    this.config = loadConfig({ ...process.env, ...env });
    const bull = createKeys(this.config.KEY_PREFIX).bullPrefix;
    const queues = queueNames(this.config.QUEUE_NAME);
    this.meter = new RedisMeter(nodeUrls, {
      deliveryJobs: `${bull}:${queues.delivery}:id`,
      handlerJobs: `${bull}:${queues.handlers}:id`,
    });
    await this.meter.connect();
    const gateway = this.track(
      spawnNode('gateway', path.join(DIST, 'src/app/gateway-main.js'), env),
    );
    const worker = this.track(spawnNode('worker', path.join(DIST, 'workers/main.js'), env));
    await Promise.all([
      gateway.waitForOutput('gateway ready'),
      worker.waitForOutput('worker ready'),
    ]);

    const per = Math.ceil(this.opts.clients / this.opts.clientProcesses);
    for (let i = 0, left = this.opts.clients; left > 0; i++, left -= per) {
      const n = Math.min(per, left);
      // One user (role admin) per socket: see mintBenchTokens. Handed over in the environment
      // (not argv, which `ps` shows); the secret itself never reaches the client processes.
      const tokens = await mintBenchTokens(this.config, `bench-c${i}`, n);
      this.clientProcs.push(
        this.track(
          forkHelper(
            `clients${i}`,
            path.join(__dirname, 'clients.js'),
            [`http://127.0.0.1:${this.port}`, String(n)],
            { BENCH_TOKENS: JSON.stringify(tokens) },
          ),
        ),
      );
    }
    this.producer = this.track(
      forkHelper('producer', path.join(__dirname, 'producer.js'), [], env),
    );
    await Promise.all(
      [...this.clientProcs, this.producer].map((p) => waitForEvent(p, 'ready', 60_000)),
    );
    for (const p of this.clientProcs) {
      p.onMessage((msg) => {
        const m = msg as { event?: string; run?: number; reason?: string };
        if (m.event === 'complete' && m.run !== undefined)
          this.completions.set(m.run, (this.completions.get(m.run) ?? 0) + 1);
        // Clients never reconnect: a lost socket would count as lost events in every later run.
        if (m.event === 'disconnect' && !this.closing)
          this.fail(`${p.name}: client socket(s) disconnected (${m.reason})`);
      });
    }
  }

  get pids(): Record<string, number> {
    // A cluster's masters are procs of their own (redis-1..3); one server is `redis`.
    if (this.opts.cluster) return Object.fromEntries(this.procs.map((p) => [p.name, p.pid]));
    return Object.fromEntries([
      ...this.procs
        .filter((p) => !this.ownRedisProcs.includes(p))
        .map((p): [string, number] => [p.name, p.pid]),
      ['redis', this.redisPid],
    ]);
  }

  /** What the gateway's and the worker's `/metrics` show now (Prometheus text format). */
  async scrapeMetrics(): Promise<{ gateway: string; worker: string }> {
    const text = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const [gateway, worker] = await Promise.all([text(this.port), text(this.metricsPort)]);
    return { gateway, worker };
  }

  async redisVersion(): Promise<string> {
    return /redis_version:(\S+)/.exec(await this.redis.info('server'))?.[1] ?? 'unknown';
  }

  /** For the result's setup: which Redis the stack ran on and whether its counts are its own. */
  async redisFacts() {
    const own = this.opts.cluster ? 'cluster' : this.ownRedisProcs.length > 0;
    return {
      ...redisSetup(own, redactUrl(this.redisUrl), await this.redisVersion()),
      idleCommandsPerSec: this.idleCommandsPerSec,
    };
  }

  /** Measures the idle stack's command rate (call after the warm-up, with nothing being sent). */
  async measureIdle(): Promise<number> {
    await this.meter.quiesce(50, 5000);
    this.idleCommandsPerSec = await this.meter.idleRate(1000);
    return this.idleCommandsPerSec;
  }

  /** Offset of each helper's clock from ours (ms), from the IPC round trip with the least delay. */
  async clockOffsets(samples = 20): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of [...this.clientProcs, this.producer]) {
      let best = { rtt: Infinity, offset: NaN };
      for (let i = 0; i < samples; i++) {
        const t0 = clock();
        const theirs = await p.call<number>('clock');
        const t1 = clock();
        if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: theirs - (t0 + t1) / 2 };
      }
      out[p.name] = round(best.offset, 3);
    }
    return out;
  }

  /** Sends rate x duration events on one path and measures their delivery to every client. */
  run(path: Path, rate: number, durationS: number, graceMs = 3000): Promise<RunResult> {
    const count = Math.round(rate * durationS);
    return this.measure(
      { path, rate, count, ...(this.opts.noteBytes ? { noteBytes: this.opts.noteBytes } : {}) },
      rate,
      durationS,
      count,
      async (run) => this.waitComplete(run, graceMs),
    );
  }

  /**
   * Sends as fast as the producer can for durationS (bounded in-flight, see FloodArgs) and
   * measures delivery: waits until every client has every event, or nothing arrived for idleMs.
   */
  flood(
    path: Path,
    durationS: number,
    flood: Omit<FloodArgs, 'durationMs'>,
    idleMs = 3000,
    maxWaitMs = 60_000,
  ): Promise<RunResult> {
    return this.measure(
      { path, rate: 0, count: 0, flood: { ...flood, durationMs: durationS * 1000 } },
      0,
      durationS,
      undefined,
      async (run, sent) => {
        await Promise.all(
          this.clientProcs.map((p) => p.call('expect', { run, expected: sent.sent })),
        );
        const deadline = Date.now() + maxWaitMs;
        let last = await this.received();
        let stillSince = Date.now();
        while (
          (this.completions.get(run) ?? 0) < this.clientProcs.length &&
          Date.now() < deadline &&
          Date.now() - stillSince < idleMs
        ) {
          await sleep(50);
          const now = await this.received();
          if (now !== last) stillSince = Date.now();
          last = now;
        }
      },
      flood.maxCount,
    );
  }

  private async measure(
    args: Omit<SendArgs, 'run'>,
    rate: number,
    durationS: number,
    count: number | undefined,
    waitDelivered: (run: number, sent: SendResult) => Promise<void>,
    capacity?: number,
  ): Promise<RunResult> {
    const { path } = args;
    this.assertHealthy();
    const run = ++this.runCounter;
    const quietWaitS = await this.waitQuiet();
    await Promise.all(
      this.clientProcs.map((p) =>
        p.call('start', {
          run,
          expected: count ?? null,
          capacity,
          ...(this.opts.timeline ? { timeline: true } : {}),
        }),
      ),
    );
    const redis0 = await this.meter.snapshot('start');
    const cpu0 = this.cpuSnapshot();
    const t0 = clock();
    const sent = await this.producer.call<SendResult>('send', { ...args, run }, 300_000);
    await waitDelivered(run, sent);
    const wall = (clock() - t0) / 1000;
    const cpu1 = this.cpuSnapshot();
    // Cost window: until the work the events caused after delivery (handler jobs, completions) is done.
    const settleS = await this.meter.quiesce(
      Number.isFinite(this.idleCommandsPerSec) ? this.idleCommandsPerSec : 50,
    );
    const redis1 = await this.meter.snapshot('end');
    const cpu2 = this.cpuSnapshot();
    const reports = await Promise.all(this.clientProcs.map((p) => p.call<ClientReport>('report')));
    this.assertHealthy();

    const hist = new Histogram();
    let delivered = 0;
    let lastRecvAt = 0;
    for (const r of reports) {
      hist.merge(r.hist, r.max, r.sum);
      delivered += r.perSocket.reduce((a, b) => a + b, 0);
      lastRecvAt = Math.max(lastRecvAt, r.lastRecvAt);
    }
    const expectedDeliveries = sent.sent * this.opts.clients;
    const events = sent.sent - sent.failed;
    const result: RunResult = {
      path,
      run,
      targetRate: rate,
      durationS,
      sent: sent.sent,
      failedSends: sent.failed,
      achievedRate: round(
        (sent.sent - 1) / Math.max(0.001, (sent.lastSendAt - sent.firstSendAt) / 1000),
        1,
      ),
      expectedDeliveries,
      delivered,
      lost: expectedDeliveries - delivered,
      duplicates: sum(reports.map((r) => r.duplicates)),
      stale: sum(reports.map((r) => r.stale)),
      deliveredPerSec: round(
        delivered / Math.max(0.001, (lastRecvAt - sent.firstSendAt) / 1000),
        0,
      ),
      latency: hist.summary(),
      cpuPct: Object.fromEntries(
        Object.keys(cpu0).map((k) => [k, round(((cpu1[k]! - cpu0[k]!) / wall) * 100, 0)]),
      ),
      foreignCpuPct: round((foreignSeconds(cpu0, cpu1) / wall) * 100, 0),
      quietWaitS,
      ...(sent.requests !== undefined ? { requests: sent.requests } : {}),
      ...(sent.peakInFlight !== undefined ? { peakInFlight: sent.peakInFlight } : {}),
      ...(sent.firstError !== undefined ? { firstError: sent.firstError } : {}),
      cost: this.cost(
        events,
        redisDelta(redis0, redis1),
        cpu0,
        cpu2,
        (redis1.at - redis0.at) / 1000,
        settleS,
      ),
    };
    if (this.opts.timeline) result.timeline = mergeTimelines(reports.map((r) => r.timeline ?? []));
    if (sent.accepted) {
      const acc = new Histogram();
      acc.merge(sent.accepted.hist, sent.accepted.max, sent.accepted.sum);
      result.accepted = acc.summary();
    }
    if (path !== 'emitter' && result.lost > 0) result.backlogDropped = await this.dropBacklog();
    if (result.lost > 0) result.settleS = await this.settle();
    return result;
  }

  private cost(
    events: number,
    redis: RedisDelta,
    cpuA: Record<string, number>,
    cpuB: Record<string, number>,
    windowS: number,
    settleS: number,
  ): CostPerEvent {
    const per = (v: number, digits = 3) => (events > 0 ? round(v / events, digits) : NaN);
    const usPer = (seconds: number) => per(seconds * 1e6, 1);
    const cpuUsPerEvent = Object.fromEntries(
      Object.keys(cpuA)
        .filter((k) => k !== 'machine')
        .map((k) => [k, usPer(cpuB[k]! - cpuA[k]!)]),
    );
    const deliveryJobs = redis.counters.deliveryJobs ?? 0;
    const handlerJobs = redis.counters.handlerJobs ?? 0;
    return {
      events,
      windowS: round(windowS, 2),
      settleS,
      workerCpuUsPerEvent: cpuUsPerEvent.worker ?? NaN,
      // INFO cpu (µs resolution) rather than /proc (10 ms ticks); the /proc figure is in cpuUsPerEvent.redis.
      redisCpuUsPerEvent: usPer(
        Number.isFinite(redis.cpuS) ? redis.cpuS : cpuB.redis! - cpuA.redis!,
      ),
      cpuUsPerEvent,
      redisCommands: redis.commands,
      redisCommandsPerEvent: per(redis.commands),
      topCommandsPerEvent: Object.fromEntries(
        [...redis.byCommand.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([cmd, n]) => [cmd, per(n)]),
      ),
      idleCommandsPerSec: this.idleCommandsPerSec,
      deliveryJobs,
      eventsPerJob: deliveryJobs > 0 ? round(events / deliveryJobs, 1) : null,
      handlerJobs,
      handlerJobsPerEvent: per(handlerJobs, 4),
    };
  }

  private async received(): Promise<number> {
    return sum(await Promise.all(this.clientProcs.map((p) => p.call<number>('received'))));
  }

  private async waitComplete(run: number, graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while ((this.completions.get(run) ?? 0) < this.clientProcs.length && Date.now() < deadline) {
      await sleep(20);
    }
  }

  /** Waits until no client has received anything for 500 ms (at most 30 s). */
  private async settle(): Promise<number> {
    const start = Date.now();
    const total = () => this.received();
    let last = await total();
    let stillSince = Date.now();
    while (Date.now() - stillSince < 500 && Date.now() - start < 30_000) {
      await sleep(100);
      const now = await total();
      if (now !== last) stillSince = Date.now();
      last = now;
    }
    return round((Date.now() - start) / 1000, 1);
  }

  /** After a saturated queued step: remove what is still waiting so the next step starts clean. */
  private async dropBacklog(): Promise<number> {
    const counts = await this.producer.call<Record<string, number>>('counts');
    const waiting = (counts.waiting ?? 0) + (counts.delayed ?? 0);
    if (waiting > 0) await this.producer.call('drain');
    // Let the jobs already active finish before the next measurement.
    await sleep(1000);
    return waiting;
  }

  /**
   * Other people's work on this shared machine distorts latency; wait (within a total budget)
   * until it uses less than QUIET_FOREIGN_PCT of one core over a short window.
   */
  private quietBudgetS = QUIET_BUDGET_S;
  private async waitQuiet(): Promise<number> {
    const start = Date.now();
    while (this.quietBudgetS > 0) {
      const a = this.cpuSnapshot();
      await sleep(500);
      const foreign = (foreignSeconds(a, this.cpuSnapshot()) / 0.5) * 100;
      if (!(foreign > QUIET_FOREIGN_PCT)) break;
      this.quietBudgetS -= 0.5;
    }
    // The last 0.5 s sample (the quiet one) is not waiting; with the budget spent nothing was sampled.
    return round(Math.max(0, (Date.now() - start) / 1000 - 0.5), 1);
  }

  private cpuSnapshot(): Record<string, number> {
    const snap: Record<string, number> = { machine: machineBusySeconds() };
    for (const [name, pid] of Object.entries(this.pids)) snap[name] = cpuSeconds(pid);
    snap.orchestrator = cpuSeconds(process.pid);
    return snap;
  }

  private track(p: Proc): Proc {
    this.procs.push(p);
    p.child.once('exit', (code, signal) => {
      if (!this.closing) this.fail(`${p.name} exited (${code ?? signal}): ${p.tail.slice(-800)}`);
    });
    return p;
  }

  /** Why the stack can no longer measure anything (a process died, a client lost its socket). */
  private readonly failures = new Map<string, number>();

  private fail(why: string): void {
    this.failures.set(why, (this.failures.get(why) ?? 0) + 1);
  }

  /**
   * Throws if the stack broke: otherwise a dead gateway or worker shows up only as runs that lost
   * every event, and the scenario would still write a result file and exit 0.
   */
  private assertHealthy(): void {
    if (this.failures.size === 0) return;
    const reasons = [...this.failures].map(([why, n]) => (n > 1 ? `${why} x${n}` : why));
    throw new Error(`bench stack broken: ${reasons.join('; ')}`);
  }

  /** Kills every process this stack started (by pid) and deletes the bench's Redis keys. */
  close(): Promise<number> {
    // Once: an interrupt and the scenario's `finally` may both close the stack.
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private closing: Promise<number> | undefined;

  private async closeOnce(): Promise<number> {
    this.unregisterInterrupt();
    await Promise.all(
      this.procs
        .filter((p) => !this.ownRedisProcs.includes(p))
        .map((p) => p.kill().catch(() => undefined)),
    );
    // An interrupt during start() closes the stack before these are set.
    const meter = this.meter as RedisMeter | undefined;
    const redis = this.redis as Redis | undefined;
    meter?.disconnect();
    let deleted = 0;
    // A private redis-server is simply stopped; on a shared Redis, delete what the stack wrote.
    if (this.ownRedisProcs.length > 0) {
      redis?.disconnect();
      await Promise.all(this.ownRedisProcs.map((p) => p.kill().catch(() => undefined)));
    } else if (redis?.status === 'ready') {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    }
    return deleted;
  }
}

function waitForEvent(p: Proc, event: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${p.name}: no ${event} in ${timeoutMs} ms: ${p.tail.slice(-800)}`)),
      timeoutMs,
    );
    p.child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${p.name} exited before ${event}: ${p.tail.slice(-800)}`));
    });
    p.onMessage((msg) => {
      if ((msg as { event?: string }).event === event) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

const QUIET_FOREIGN_PCT = 30;
const QUIET_BUDGET_S = 120;

/** Machine CPU seconds not used by any process of the bench, between two snapshots. */
function foreignSeconds(a: Record<string, number>, b: Record<string, number>): number {
  let ours = 0;
  for (const k of Object.keys(a)) if (k !== 'machine') ours += (b[k] ?? 0) - (a[k] ?? 0);
  return Math.max(0, (b.machine ?? 0) - (a.machine ?? 0) - ours);
}

/** Per second: the worst latency of any client process, and the sum of their slow deliveries. */
function mergeTimelines(timelines: Timeline[]): Timeline {
  const bySecond = new Map<number, [number, number]>();
  for (const t of timelines) {
    for (const [second, max, over] of t) {
      const slot = bySecond.get(second);
      if (!slot) bySecond.set(second, [max, over]);
      else {
        slot[0] = Math.max(slot[0], max);
        slot[1] += over;
      }
    }
  }
  return [...bySecond]
    .map(([second, [max, over]]): Timeline[number] => [second, max, over])
    .sort((a, b) => a[0] - b[0]);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
