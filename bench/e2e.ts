/**
 * The end-to-end benchmark of issue 2: 100 clients in one room, the same events on the queued
 * path (EventManager -> BullMQ -> worker -> adapter) and the emitter path (redis-emitter ->
 * adapter) into the same gateway, at a fixed rate (median of alternating runs) and at rising rates.
 */
import os from 'node:os';
import { BenchStack, type RunResult } from './lib/harness';
import type { Path } from './lib/protocol';
import { median, ratio, round } from './lib/stats';
import { machineFacts, writeResult } from './lib/report';

export interface E2eOptions {
  redisUrl: string;
  clients: number;
  clientProcesses: number;
  rate: number;
  durationS: number;
  repeats: number;
  steps: number[];
  stepS: number;
  p99LimitMs: number;
}

export const E2E_DEFAULTS: Omit<E2eOptions, 'redisUrl'> = {
  clients: 100,
  clientProcesses: 2,
  rate: 1000,
  durationS: 10,
  repeats: 3,
  // Starts low: on a shared 2-core machine with clients and gateway on it, 1,000/s is near the limit.
  steps: [250, 500, 750, 1000, 1500, 2000, 3000, 4000],
  stepS: 5,
  p99LimitMs: 50,
};

type E2ePath = Exclude<Path, 'batched'>;
const PATHS: E2ePath[] = ['queued', 'emitter'];

function log(line: string): void {
  process.stdout.write(`[e2e] ${line}\n`);
}

function brief(r: RunResult): string {
  const l = r.latency;
  return `${r.path.padEnd(7)} ${r.targetRate}/s sent ${r.achievedRate}/s  p50 ${l.p50} p95 ${l.p95} p99 ${l.p99} max ${l.max} ms  lost ${r.lost}  foreign cpu ${r.foreignCpuPct}% (waited ${r.quietWaitS}s)  cpu ${JSON.stringify(r.cpuPct)}`;
}

/** A step passes when every event reached every client, p99 is under the limit, and the producer kept the pace. */
export function sustained(r: RunResult, p99LimitMs: number): boolean {
  return r.lost === 0 && r.failedSends === 0 && r.latency.p99 < p99LimitMs && r.achievedRate >= 0.95 * r.targetRate;
}

function medians(runs: RunResult[]) {
  return {
    runs: runs.length,
    p50: round(median(runs.map((r) => r.latency.p50))),
    p95: round(median(runs.map((r) => r.latency.p95))),
    p99: round(median(runs.map((r) => r.latency.p99))),
    max: round(median(runs.map((r) => r.latency.max))),
    deliveredPerSec: round(median(runs.map((r) => r.deliveredPerSec)), 0),
    achievedSendRate: round(median(runs.map((r) => r.achievedRate)), 1),
    lost: runs.reduce((a, r) => a + r.lost, 0),
    ...(runs[0]?.accepted ? { acceptedP50: round(median(runs.map((r) => r.accepted!.p50))), acceptedP99: round(median(runs.map((r) => r.accepted!.p99))) } : {}),
    cpuPctMedian: Object.fromEntries(Object.keys(runs[0]?.cpuPct ?? {}).map((k) => [k, median(runs.map((r) => r.cpuPct[k]!))])),
  };
}

/** Side by side at each rate both paths ran (the last run of each path at that rate). */
function perStepRatios(steps: RunResult[], limit: number) {
  const rates = [...new Set(steps.map((r) => r.targetRate))];
  return rates.map((rate) => {
    const last = (p: Path) => steps.filter((r) => r.path === p && r.targetRate === rate).at(-1);
    const q = last('queued');
    const e = last('emitter');
    const side = (r?: RunResult) =>
      r && { p50: r.latency.p50, p99: r.latency.p99, lost: r.lost, deliveredPerSec: r.deliveredPerSec, sustained: sustained(r, limit), foreignCpuPct: r.foreignCpuPct };
    return { rate, queued: side(q), emitter: side(e), p99Ratio: q && e ? ratio(q.latency.p99, e.latency.p99) : null };
  });
}

export async function runE2e(opts: E2eOptions, outFile: string): Promise<unknown> {
  const started = Date.now();
  const stack = new BenchStack({ redisUrl: opts.redisUrl, clients: opts.clients, clientProcesses: opts.clientProcesses });
  const loadBefore = os.loadavg();
  try {
    await stack.start();
    log(`stack up: gateway :${stack.port}, prefix ${stack.prefix}, ${opts.clients} clients in ${opts.clientProcesses} processes`);
    const clockOffsetsMs = await stack.clockOffsets();

    // Warm-up (not recorded): JIT, connections, BullMQ scripts loaded.
    for (const p of PATHS) await stack.run(p, 500, 1);

    const fixed: RunResult[] = [];
    for (let i = 0; i < opts.repeats; i++) {
      for (const p of PATHS) {
        const r = await stack.run(p, opts.rate, opts.durationS);
        log(`fixed ${i + 1}/${opts.repeats} ${brief(r)}`);
        fixed.push(r);
      }
    }

    const steps: RunResult[] = [];
    const maxSustained: Record<E2ePath, number> = { queued: 0, emitter: 0 };
    const alive = new Set<E2ePath>(PATHS);
    for (const rate of opts.steps) {
      for (const p of PATHS) {
        if (!alive.has(p)) continue;
        let r = await stack.run(p, rate, opts.stepS);
        log(`step ${brief(r)}`);
        steps.push(r);
        // The machine is shared: confirm a failure once before calling it the path's limit.
        if (!sustained(r, opts.p99LimitMs)) {
          r = await stack.run(p, rate, opts.stepS);
          log(`retry ${brief(r)}`);
          steps.push(r);
        }
        if (sustained(r, opts.p99LimitMs)) maxSustained[p] = rate;
        else alive.delete(p);
      }
      if (alive.size === 0) break;
    }

    const queued = medians(fixed.filter((r) => r.path === 'queued'));
    const emitter = medians(fixed.filter((r) => r.path === 'emitter'));
    const result = {
      scenario: 'e2e',
      setup: {
        ...machineFacts(),
        loadavgBefore: loadBefore.map((v) => round(v)),
        loadavgAfter: os.loadavg().map((v) => round(v)),
        redisVersion: await stack.redisVersion(),
        clients: opts.clients,
        clientProcesses: opts.clientProcesses,
        room: 'order:bench on /orders',
        event: 'order_status_changed (delivery immediate)',
        workerConcurrency: stack.config.WORKER_CONCURRENCY,
        auth: `AUTH_MODE=${stack.config.AUTH_MODE}; one JWT per client (distinct users, role admin), verified at the handshake; rate limits as configured (socket ${stack.config.RATE_SOCKET_PER_SEC}/s, user ${stack.config.RATE_USER_PER_SEC}/s); clients send only their join`,
        clockOffsetsMs,
        processes: 'gateway, worker, 2 client processes, 1 producer process (EventManager and redis-emitter), orchestrator; all on 127.0.0.1',
        latency: 'client receive time - producer send time, performance.timeOrigin + performance.now(); send time carried in data.note on both paths',
        durationS: round((Date.now() - started) / 1000, 1),
      },
      fixedRate: {
        rate: opts.rate,
        durationS: opts.durationS,
        eventsPerRun: opts.rate * opts.durationS,
        deliveriesPerRun: opts.rate * opts.durationS * opts.clients,
        note: `median over ${opts.repeats} runs per path, alternating queued/emitter; ratio = queued / emitter of the medians`,
        queued,
        emitter,
        ratio: {
          p50: ratio(queued.p50, emitter.p50),
          p95: ratio(queued.p95, emitter.p95),
          p99: ratio(queued.p99, emitter.p99),
          deliveredPerSec: ratio(queued.deliveredPerSec, emitter.deliveredPerSec),
        },
        target: { queuedP99WithinXOfEmitter: 1.5, met: queued.p99 <= 1.5 * emitter.p99 },
      },
      risingRate: {
        steps: opts.steps,
        stepS: opts.stepS,
        criterion: `every event to every client, no failed send, p99 < ${opts.p99LimitMs} ms, send rate >= 95% of target; a failing step is retried once, a path stops at its first failing step`,
        maxSustainedRate: maxSustained,
        ratio: ratio(maxSustained.queued, maxSustained.emitter),
        perStep: perStepRatios(steps, opts.p99LimitMs),
        topStepReached: { queued: maxSustained.queued === opts.steps.at(-1), emitter: maxSustained.emitter === opts.steps.at(-1) },
      },
      runs: { fixed, steps },
    };
    writeResult(outFile, result);
    log(`wrote ${outFile}`);
    return result;
  } finally {
    const deleted = await stack.close();
    log(`stopped ${stack.procs.length} processes, deleted ${deleted} Redis keys`);
  }
}
