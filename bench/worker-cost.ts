/**
 * Worker cost: what the worker process spends per event on the queued path, beside what BullMQ
 * alone spends on exactly the same jobs. For each rate and batch linger, an EventManager in this
 * process publishes `order_status_changed` to one order room at a fixed rate (as the e2e bench's
 * queued path does) while one consumer runs:
 * - `switchboard`: the real worker (dist/workers/main.js: delivery batches emitted with one Lua
 *   call each, the handler inbox and the shipped activity-log handler);
 * - `bullmq`: lib/noop-worker.ts, a BullMQ Worker with the delivery worker's options whose
 *   processor does nothing: BullMQ's own floor for these jobs.
 * Worker CPU (user + system, /proc) over the measured window and until the queue is drained,
 * divided by the events and by the jobs (the delivery queue's job id counter). Targets alternate
 * within each round; medians of the rounds. Production configuration (NODE_ENV, ADMIN_TOKEN).
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config';
import { openRuntime } from '../src/app/runtime';
import type { Runtime } from '../src/runtime';
import { createKeys } from '../src/redis/keys';
import { queueNames } from '../src/wire/delivery-batch';
import { benchDeploymentEnv } from './lib/auth';
import { sleep } from './lib/harness';
import { cpuSeconds, onInterrupt, spawnNode, type Proc } from './lib/procs';
import { BENCH_EVENT, BENCH_ORDER, encodeNote } from './lib/protocol';
import { privateRedis } from './lib/redis';
import { runFacts, writeResult } from './lib/report';
import { median, ratio, round } from './lib/stats';

export interface WorkerCostOptions {
  /** Used only when no private redis-server can be started. */
  redisUrl: string;
  rates: number[];
  lingersMs: number[];
  warmupS: number;
  durationS: number;
  rounds: number;
  /** The target at 300/s with the default linger (issue: worker CPU per event). */
  targetUsPerEvent: number;
}

export const WORKER_COST_DEFAULTS: Omit<WorkerCostOptions, 'redisUrl'> = {
  rates: [300, 500, 1000],
  lingersMs: [0, 8, 16],
  warmupS: 2,
  durationS: 8,
  rounds: 2,
  targetUsPerEvent: 200,
};

type Consumer = 'switchboard' | 'bullmq';
const CONSUMERS: Consumer[] = ['switchboard', 'bullmq'];
const DIST = path.resolve(__dirname, '..');
const TICK_MS = 2;

function log(line: string): void {
  process.stdout.write(`[worker-cost] ${line}\n`);
}

interface Measured {
  events: number;
  jobs: number;
  cpuS: number;
}

/** Publishes at `rate` for `seconds` (every accept awaited), then waits for the queue to drain. */
async function publish(runtime: Runtime, rate: number, seconds: number, run: number) {
  const started = performance.now();
  const accepts: Array<Promise<unknown>> = [];
  let sent = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) {
      sent++;
      accepts.push(
        runtime.events.emitToOrder(BENCH_EVENT, BENCH_ORDER, {
          orderId: BENCH_ORDER,
          status: 'shipped',
          note: encodeNote(run, sent, performance.now()),
        }),
      );
    }
    await sleep(TICK_MS);
  }
  await Promise.all(accepts);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const counts = await runtime.events.queue.getJobCounts('waiting', 'active', 'delayed');
    if ((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) === 0) break;
    if (Date.now() > deadline) throw new Error(`queue not drained: ${JSON.stringify(counts)}`);
    await sleep(20);
  }
  return sent;
}

export async function runWorkerCost(opts: WorkerCostOptions, outFile: string): Promise<unknown> {
  const loadBefore = os.loadavg();
  const procs: Proc[] = [];
  const runtimes: Runtime[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.kill().catch(() => undefined)));
    await Promise.all(runtimes.map((r) => r.close().catch(() => undefined)));
  };
  const unregister = onInterrupt(stop);
  try {
    const own = await privateRedis('worker-cost-redis');
    if (own) procs.push(own.proc);
    const env: Record<string, string> = {
      ...benchDeploymentEnv(),
      REDIS_URL: own?.url ?? opts.redisUrl,
      KEY_PREFIX: `bench-wc-${Date.now().toString(36)}-${process.pid}`,
      METRICS_PORT: '0',
      // info: the worker's readiness line is what the bench waits for.
      LOG_LEVEL: 'info',
    };
    const base: Config = loadConfig({ ...process.env, ...env });
    const keys = createKeys(base.KEY_PREFIX);
    const idKey = `${keys.bullPrefix}:${queueNames(base.QUEUE_NAME).delivery}:id`;
    let run = 0;

    const measure = async (
      consumer: Consumer,
      runtime: Runtime,
      rate: number,
    ): Promise<Measured> => {
      const proc =
        consumer === 'switchboard'
          ? spawnNode('worker', path.join(DIST, 'workers/main.js'), env)
          : spawnNode('noop-worker', path.join(__dirname, 'lib/noop-worker.js'), env);
      procs.push(proc);
      try {
        await proc.waitForOutput(
          consumer === 'switchboard' ? 'worker ready' : 'noop ready',
          30_000,
        );
        await publish(runtime, rate, opts.warmupS, ++run);
        const jobs0 = Number((await runtime.redis.get(idKey)) ?? 0);
        const cpu0 = cpuSeconds(proc.pid);
        const events = await publish(runtime, rate, opts.durationS, ++run);
        const cpu1 = cpuSeconds(proc.pid);
        const jobs1 = Number((await runtime.redis.get(idKey)) ?? 0);
        return { events, jobs: jobs1 - jobs0, cpuS: cpu1 - cpu0 };
      } finally {
        await proc.kill('SIGTERM').catch(() => undefined);
        procs.splice(procs.indexOf(proc), 1);
      }
    };

    const rows = [];
    for (const lingerMs of opts.lingersMs) {
      const runtime = await openRuntime({ ...base, BATCH_LINGER_MS: lingerMs });
      runtimes.push(runtime);
      for (const rate of opts.rates) {
        const results: Record<Consumer, Measured[]> = { switchboard: [], bullmq: [] };
        for (let round = 0; round < opts.rounds; round++) {
          const order = round % 2 === 0 ? CONSUMERS : [...CONSUMERS].reverse();
          for (const consumer of order)
            results[consumer].push(await measure(consumer, runtime, rate));
        }
        const side = (ms: Measured[]) => ({
          cpuUsPerEvent: round(median(ms.map((m) => (m.cpuS / m.events) * 1e6)), 1),
          cpuUsPerJob: round(median(ms.map((m) => (m.cpuS / Math.max(1, m.jobs)) * 1e6)), 1),
          eventsPerJob: round(median(ms.map((m) => m.events / Math.max(1, m.jobs))), 2),
          cpuPctOfCore: round(median(ms.map((m) => (m.cpuS / opts.durationS) * 100)), 1),
        });
        const sb = side(results.switchboard);
        const bq = side(results.bullmq);
        const row = {
          rate,
          lingerMs,
          switchboard: sb,
          bullmq: bq,
          /** BullMQ's share of the worker's CPU per job (same jobs, a processor that does nothing). */
          bullmqShareOfWorkerCpu: ratio(bq.cpuUsPerJob, sb.cpuUsPerJob),
        };
        rows.push(row);
        log(
          `${rate}/s linger ${lingerMs} ms: worker ${sb.cpuUsPerEvent} µs/event (${sb.cpuUsPerJob} µs/job, ${sb.eventsPerJob} ev/job); BullMQ alone ${bq.cpuUsPerEvent} µs/event (${bq.cpuUsPerJob} µs/job, ${bq.eventsPerJob} ev/job): ${Math.round(row.bullmqShareOfWorkerCpu * 100)}% of the worker's per-job CPU`,
        );
      }
      await runtime.close();
      runtimes.splice(runtimes.indexOf(runtime), 1);
    }

    const atTarget = rows.find((r) => r.rate === 300 && r.lingerMs === base.BATCH_LINGER_MS);
    const result = {
      scenario: 'worker-cost',
      setup: {
        ...runFacts(loadBefore),
        rates: opts.rates,
        lingersMs: opts.lingersMs,
        defaultLingerMs: base.BATCH_LINGER_MS,
        warmupS: opts.warmupS,
        durationS: opts.durationS,
        rounds: opts.rounds,
        privateRedis: own !== undefined,
        producer:
          'an EventManager in the bench process (openRuntime), emitToOrder order_status_changed at a fixed rate (2 ms ticks), every accept awaited',
        consumers:
          'switchboard: dist/workers/main.js as deployed (NODE_ENV=production, ADMIN_TOKEN set, the shipped handlers); bullmq: bench/lib/noop-worker.ts, a BullMQ Worker with the delivery worker options and a processor that does nothing',
      },
      note: 'worker CPU (user + system) over the measured window and the drain after it, per event and per delivery job (the queue id counter); medians of rounds, consumers alternating',
      rows,
      ...(atTarget
        ? {
            target: {
              rate: 300,
              lingerMs: atTarget.lingerMs,
              maxCpuUsPerEvent: opts.targetUsPerEvent,
              cpuUsPerEvent: atTarget.switchboard.cpuUsPerEvent,
              bullmqAloneCpuUsPerEvent: atTarget.bullmq.cpuUsPerEvent,
              met: atTarget.switchboard.cpuUsPerEvent <= opts.targetUsPerEvent,
            },
          }
        : {}),
    };
    writeResult(outFile, result);
    log(`wrote ${outFile}`);
    return result;
  } finally {
    unregister();
    await stop();
  }
}
