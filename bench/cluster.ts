/**
 * Standalone Redis beside Redis Cluster: the throughput scenario's queued path (one client, the
 * producer sending as fast as it can through EventManager -> delivery batches -> worker) on two
 * stacks that are up at the same time, one on a private redis-server and one on a private 3-master
 * cluster (REDIS_MODE=cluster: sharded adapter, SPUBLISH, one emit call per slot), runs alternating,
 * median of `repeats` each. All of it on this one machine, so the cluster's masters share its cores.
 */
import os from 'node:os';
import { brief } from './e2e';
import { BenchStack, type RunResult } from './lib/harness';
import { runFacts, writeResult } from './lib/report';
import { ratio, round } from './lib/stats';
import { summarize, THROUGHPUT_DEFAULTS, type ThroughputOptions } from './throughput';

export const CLUSTER_DEFAULTS = THROUGHPUT_DEFAULTS;

type Mode = 'standalone' | 'cluster';
const MODES: Mode[] = ['standalone', 'cluster'];

function log(line: string): void {
  process.stdout.write(`[cluster] ${line}\n`);
}

export async function runCluster(opts: ThroughputOptions, outFile: string): Promise<unknown> {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const flood = {
    maxCount: opts.maxCount,
    maxInFlight: opts.maxInFlight,
    yieldEvery: opts.yieldEvery,
  };
  const stacks: Record<Mode, BenchStack> = {
    standalone: new BenchStack({ redisUrl: opts.redisUrl, clients: 1, clientProcesses: 1 }),
    cluster: new BenchStack({
      redisUrl: opts.redisUrl,
      clients: 1,
      clientProcesses: 1,
      cluster: true,
    }),
  };
  try {
    for (const mode of MODES) {
      await stacks[mode].start();
      await stacks[mode].flood('queued', 1, flood); // warm-up, not recorded
      log(
        `${mode}: gateway :${stacks[mode].port}, idle ${await stacks[mode].measureIdle()} Redis commands/s`,
      );
    }
    const runs: Record<Mode, RunResult[]> = { standalone: [], cluster: [] };
    for (let i = 0; i < opts.repeats; i++) {
      for (let j = 0; j < MODES.length; j++) {
        const mode = MODES[(i + j) % MODES.length]!;
        const r = await stacks[mode].flood('queued', opts.durationS, flood);
        log(
          `${i + 1}/${opts.repeats} ${mode.padEnd(10)} delivered ${r.deliveredPerSec}/s  ${brief(r)}`,
        );
        runs[mode].push(r);
      }
    }
    const standalone = summarize(runs.standalone);
    const cluster = summarize(runs.cluster);
    const result = {
      scenario: 'cluster',
      setup: {
        ...runFacts(loadBefore),
        standalone: await stacks.standalone.redisFacts(),
        cluster: await stacks.cluster.redisFacts(),
        clients: 1,
        path: 'queued (EventManager.emitToOrder -> delivery batch -> worker); the emitter path has no sharded mode',
        sending: `as fast as possible for ${opts.durationS} s, at most ${opts.maxInFlight} emits not yet accepted`,
        durationS: round((Date.now() - started) / 1000, 1),
      },
      note: `median over ${opts.repeats} runs per mode, alternating; ratio = cluster / standalone`,
      standalone,
      cluster,
      ratio: {
        deliveredPerSec: ratio(cluster.deliveredPerSec, standalone.deliveredPerSec),
        p50: ratio(cluster.p50, standalone.p50),
        p99: ratio(cluster.p99, standalone.p99),
      },
      runs,
    };
    log(
      `standalone ${standalone.deliveredPerSec}/s (p99 ${standalone.p99} ms)  cluster ${cluster.deliveredPerSec}/s (p99 ${cluster.p99} ms)`,
    );
    writeResult(outFile, result);
    log(`wrote ${outFile}`);
    return result;
  } finally {
    for (const mode of MODES) await stacks[mode].close();
  }
}
