/**
 * `npm run bench`: runs each benchmark scenario in turn (e2e, intake, worker-cost, throughput,
 * throttle, validation, slow-consumers, connections, cluster, replay) and writes its result under bench/results/, then
 * the charts drawn from the results (scripts/docs/charts.ts). Not part of the tests.
 * Set BENCH_ONLY=e2e (comma list) to run a subset, BENCH_QUICK=1 for a short smoke run.
 * The soak (about 35 minutes) runs only when named: BENCH_ONLY=soak.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { chartsOfRun } from '../scripts/docs/charts';
import { CLUSTER_DEFAULTS, runCluster } from './cluster';
import { E2E_DEFAULTS, runE2e } from './e2e';
import { INTAKE_DEFAULTS, runIntake } from './intake';
import { runWorkerCost, WORKER_COST_DEFAULTS } from './worker-cost';
import { CONNECTIONS_DEFAULTS, runConnections } from './connections';
import { ROOT } from './lib/report';
import { runSlowConsumers, SLOW_CONSUMER_DEFAULTS } from './slow-consumers';
import { runSoak, SOAK_DEFAULTS } from './soak';
import { REPLAY_DEFAULTS, runReplay } from './replay';
import { runThrottle, THROTTLE_DEFAULTS } from './throttle';
import { runThroughput, THROUGHPUT_DEFAULTS } from './throughput';
import { runValidation, VALIDATION_DEFAULTS } from './validation';

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const results = path.join(ROOT, 'bench', 'results');

// BENCH_QUICK=1: a short smoke run of the whole sequence (figures not meaningful), written aside.
const quick = process.env.BENCH_QUICK === '1';
const e2eOptions = quick
  ? { ...E2E_DEFAULTS, durationS: 2, repeats: 1, steps: [500, 2000], stepS: 2 }
  : E2E_DEFAULTS;
const throughputOptions = quick
  ? { ...THROUGHPUT_DEFAULTS, durationS: 2, repeats: 1 }
  : THROUGHPUT_DEFAULTS;
const throttleOptions = quick
  ? { ...THROTTLE_DEFAULTS, rate: 2000, durationMs: 2000 }
  : THROTTLE_DEFAULTS;
// Slow consumers: the kernel's socket buffers take ~4 MB per stalled socket before the gateway holds
// anything, ~5.5 s at 1,000 events/s: the quick runs last 8 s so the cap is still reached.
const slowConsumerOptions = quick
  ? {
      ...SLOW_CONSUMER_DEFAULTS,
      durationS: 8,
      repeats: 1,
      noCapDurationS: 8,
      resumeWaitMs: 5000,
      warmupS: 2,
    }
  : SLOW_CONSUMER_DEFAULTS;
const connectionsOptions = quick
  ? { ...CONNECTIONS_DEFAULTS, connections: 1000, heapConnections: 500, stormConnections: 1000 }
  : CONNECTIONS_DEFAULTS;
// BENCH_TAG=name: a variant run (e.g. with HANDLERS_DIR pointing at an empty folder) written as
// <scenario>.<name>.json next to the default results, so both can be compared.
const tag =
  process.env.BENCH_TAG && /^[a-z0-9-]{1,32}$/.test(process.env.BENCH_TAG)
    ? `.${process.env.BENCH_TAG}`
    : '';
const suffix = (quick ? '.quick' : '') + tag;

const soakOptions = quick
  ? { ...SOAK_DEFAULTS, durationS: 240, faultEveryS: 36, clients: 200, steps: [50, 100], stepS: 5 }
  : SOAK_DEFAULTS;
/** Scenarios left out of a run that does not name them in BENCH_ONLY. */
const onlyWhenNamed = new Set(['soak']);

const scenarios: Array<[name: string, run: () => Promise<unknown>]> = [
  ['e2e', () => runE2e({ redisUrl, ...e2eOptions }, path.join(results, `e2e${suffix}.json`))],
  [
    'intake',
    () =>
      runIntake(
        { redisUrl, ...INTAKE_DEFAULTS, ...(quick ? { durationS: 1, idleS: 1, rounds: 1 } : {}) },
        path.join(results, `intake${suffix}.json`),
      ),
  ],
  [
    'worker-cost',
    () =>
      runWorkerCost(
        {
          redisUrl,
          ...WORKER_COST_DEFAULTS,
          ...(quick ? { rates: [300], lingersMs: [8], durationS: 2, rounds: 1 } : {}),
        },
        path.join(results, `worker-cost${suffix}.json`),
      ),
  ],
  [
    'throughput',
    () =>
      runThroughput(
        { redisUrl, ...throughputOptions },
        path.join(results, `throughput${suffix}.json`),
      ),
  ],
  [
    'throttle',
    () =>
      runThrottle({ redisUrl, ...throttleOptions }, path.join(results, `throttle${suffix}.json`)),
  ],
  [
    'validation',
    () =>
      runValidation(
        quick ? { ...VALIDATION_DEFAULTS, rounds: 3 } : VALIDATION_DEFAULTS,
        path.join(results, `validation${suffix}.json`),
      ),
  ],
  [
    'slow-consumers',
    () =>
      runSlowConsumers(
        { redisUrl, ...slowConsumerOptions },
        path.join(results, `slow-consumers${suffix}.json`),
      ),
  ],
  [
    'connections',
    () =>
      runConnections(
        { redisUrl, ...connectionsOptions },
        path.join(results, `connections${suffix}.json`),
      ),
  ],
  [
    'cluster',
    () =>
      runCluster(
        {
          redisUrl,
          ...(quick ? { ...CLUSTER_DEFAULTS, durationS: 2, repeats: 1 } : CLUSTER_DEFAULTS),
        },
        path.join(results, `cluster${suffix}.json`),
      ),
  ],
  [
    'replay',
    () =>
      runReplay(
        { redisUrl, ...REPLAY_DEFAULTS, ...(quick ? { durationS: 3 } : {}) },
        path.join(results, `replay${suffix}.json`),
      ),
  ],
  ['soak', () => runSoak(soakOptions, path.join(results, `soak${suffix}.json`))],
];

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
  const unknown = only?.filter((n) => !scenarios.some(([name]) => name === n)) ?? [];
  if (unknown.length > 0)
    throw new Error(
      `unknown scenario(s) in BENCH_ONLY: ${unknown.join(', ')} (known: ${scenarios.map(([n]) => n).join(', ')})`,
    );
  for (const [name, run] of scenarios) {
    if (only ? !only.includes(name) : onlyWhenNamed.has(name)) continue;
    process.stdout.write(`bench: ${name}\n`);
    await run();
  }
  // The charts of the scenarios that have results for this run's suffix (drawn from the JSON).
  for (const [file, svg] of chartsOfRun(results, suffix)) {
    writeFileSync(file, svg);
    process.stdout.write(`bench: chart ${path.relative(process.cwd(), file)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
