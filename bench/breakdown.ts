/**
 * Diagnostic scenario (`BENCH_ONLY=breakdown npm run bench`): where the queued path's time goes.
 * The worker is the probe worker (same job handling as workers/delivery-worker.ts, plus timestamps),
 * so each event's latency splits into: send -> job stored (emit resolved) -> job active in the
 * worker -> PUBLISH acknowledged -> received by the clients. The PROTOTYPE path `batched` (all
 * events of one producer tick in one job) runs side by side with `queued` and `emitter`.
 */
import path from 'node:path';
import { BenchStack, type RunResult } from './lib/harness';
import type { Path } from './lib/protocol';
import { machineFacts, writeResult } from './lib/report';
import { median, ratio, round, type LatencySummary } from './lib/stats';

export interface BreakdownOptions {
  redisUrl: string;
  /** 10 clients isolate the queue's cost; 100 clients add the fan-out the e2e scenario has. */
  cases: Array<{ clients: number; rate: number }>;
  repeats: number;
  durationS: number;
}

export const BREAKDOWN_DEFAULTS: Omit<BreakdownOptions, 'redisUrl'> = {
  cases: [
    { clients: 10, rate: 1000 },
    { clients: 100, rate: 250 },
  ],
  repeats: 3,
  durationS: 5,
};

const PATHS: Path[] = ['queued', 'batched', 'emitter'];

interface WorkerStats {
  active: LatencySummary;
  published: LatencySummary;
  handler: LatencySummary;
  maxInFlight: number;
}

type Measured = RunResult & { worker?: WorkerStats };

function stage(runs: Measured[], pick: (r: Measured) => LatencySummary | undefined) {
  const xs = runs.map(pick).filter((x): x is LatencySummary => x !== undefined && x.samples > 0);
  if (xs.length === 0) return undefined;
  return { p50: round(median(xs.map((x) => x.p50))), p99: round(median(xs.map((x) => x.p99))) };
}

function summarize(runs: Measured[]) {
  const cpu = (k: string) => median(runs.map((r) => r.cpuPct[k] ?? NaN));
  return {
    runs: runs.length,
    stages: {
      accepted: stage(runs, (r) => r.accepted),
      active: stage(runs, (r) => r.worker?.active),
      published: stage(runs, (r) => r.worker?.published),
      client: stage(runs, (r) => r.latency),
    },
    workerHandlerMs: stage(runs, (r) => r.worker?.handler),
    lost: runs.reduce((a, r) => a + r.lost, 0),
    cpuPct: { worker: cpu('worker'), redis: cpu('redis'), producer: cpu('producer'), gateway: cpu('gateway'), foreign: median(runs.map((r) => r.foreignCpuPct)) },
  };
}

export async function runBreakdown(opts: BreakdownOptions, outFile: string): Promise<unknown> {
  const cases = [];
  for (const c of opts.cases) {
    const stack = new BenchStack({
      redisUrl: opts.redisUrl,
      clients: c.clients,
      clientProcesses: 2,
      workerFile: path.join(__dirname, 'lib', 'probe-worker.js'),
      workerArgs: ['{}'],
    });
    try {
      await stack.start();
      for (const p of PATHS) await stack.run(p, 300, 1); // warm-up, not recorded
      const runs: Measured[] = [];
      for (let i = 0; i < opts.repeats; i++) {
        for (const p of PATHS) {
          await stack.worker.call('reset');
          const r: Measured = await stack.run(p, c.rate, opts.durationS);
          if (p !== 'emitter') r.worker = await stack.worker.call<WorkerStats>('stats');
          runs.push(r);
          process.stdout.write(`[breakdown] ${c.clients} clients ${c.rate}/s ${p.padEnd(7)} client p50 ${r.latency.p50} p99 ${r.latency.p99}` +
            `${r.worker ? ` | active p50 ${r.worker.active.p50} p99 ${r.worker.active.p99}` : ''} | lost ${r.lost} | foreign ${r.foreignCpuPct}% | worker cpu ${r.cpuPct.worker}%\n`);
        }
      }
      const by = Object.fromEntries(PATHS.map((p) => [p, summarize(runs.filter((r) => r.path === p))]));
      const p99 = (p: Path) => by[p]?.stages.client?.p99 ?? NaN;
      const p50 = (p: Path) => by[p]?.stages.client?.p50 ?? NaN;
      cases.push({
        clients: c.clients,
        rate: c.rate,
        durationS: opts.durationS,
        ...by,
        ratioToEmitter: {
          queued: { p50: ratio(p50('queued'), p50('emitter')), p99: ratio(p99('queued'), p99('emitter')) },
          batched: { p50: ratio(p50('batched'), p50('emitter')), p99: ratio(p99('batched'), p99('emitter')) },
        },
        runs,
      });
    } finally {
      await stack.close();
    }
  }
  const result = {
    scenario: 'breakdown',
    setup: { ...machineFacts(), note: 'probe worker = workers/delivery-worker.ts job handling + timestamps; medians of alternating runs; stage = ms from send' },
    cases,
  };
  writeResult(outFile, result);
  return result;
}
