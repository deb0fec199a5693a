/**
 * Throughput to one client: one socket in the bench room, the producer sending as fast as it can
 * for `durationS` on the queued path (EventManager.emitToOrder -> delivery batch job -> worker)
 * and on the emitter path, alternating, median of `repeats` runs each. Memory stays bounded: the
 * queued path keeps at most `maxInFlight` emits not yet accepted, the emitter yields every
 * `yieldEvery` publishes and lets at most `maxInFlight` wait in Redis (see FloodArgs).
 * Delivered events/s = distinct events the client received / (last receipt - first send).
 */
import os from 'node:os';
import { brief } from './e2e';
import { BenchStack, type RunResult } from './lib/harness';
import { orderRoomSetup } from './lib/order-room-setup';
import type { Path } from './lib/protocol';
import { medianCost, writeResult } from './lib/report';
import { median, ratio, round } from './lib/stats';

export interface ThroughputOptions {
  redisUrl: string;
  durationS: number;
  repeats: number;
  /** Queued: emits awaiting acceptance at most. Emitter: publishes not yet confirmed by a PING at most. */
  maxInFlight: number;
  /** Emitter (and queued): yield to the event loop every this many sends. */
  yieldEvery: number;
  /** Receiver capacity (events per run): the producer stops there even before durationS. */
  maxCount: number;
  /** Queued events/s to the client the issue asks for. */
  targetQueuedPerSec: number;
}

export const THROUGHPUT_DEFAULTS: Omit<ThroughputOptions, 'redisUrl'> = {
  durationS: 10,
  repeats: 3,
  maxInFlight: 5000,
  yieldEvery: 250,
  maxCount: 5_000_000,
  targetQueuedPerSec: 30_000,
};

type FloodPath = Extract<Path, 'queued' | 'emitter'>;
const PATHS: FloodPath[] = ['queued', 'emitter'];

function log(line: string): void {
  process.stdout.write(`[throughput] ${line}\n`);
}

export function summarize(runs: RunResult[]) {
  return {
    runs: runs.length,
    deliveredPerSec: round(median(runs.map((r) => r.deliveredPerSec)), 0),
    achievedSendRate: round(median(runs.map((r) => r.achievedRate)), 0),
    sent: round(median(runs.map((r) => r.sent)), 0),
    lost: runs.reduce((a, r) => a + r.lost, 0),
    failedSends: runs.reduce((a, r) => a + r.failedSends, 0),
    p50: round(median(runs.map((r) => r.latency.p50))),
    p99: round(median(runs.map((r) => r.latency.p99))),
    max: round(median(runs.map((r) => r.latency.max))),
    ...(runs[0]?.accepted
      ? {
          acceptedP50: round(median(runs.map((r) => r.accepted!.p50))),
          acceptedP99: round(median(runs.map((r) => r.accepted!.p99))),
        }
      : {}),
    ...(runs[0]?.peakInFlight !== undefined
      ? { peakInFlight: Math.max(...runs.map((r) => r.peakInFlight ?? 0)) }
      : {}),
    cpuPctMedian: Object.fromEntries(
      Object.keys(runs[0]?.cpuPct ?? {}).map((k) => [k, median(runs.map((r) => r.cpuPct[k]!))]),
    ),
    cost: medianCost(runs.map((r) => r.cost)),
  };
}

export async function runThroughput(opts: ThroughputOptions, outFile: string): Promise<unknown> {
  const started = Date.now();
  const stack = new BenchStack({ redisUrl: opts.redisUrl, clients: 1, clientProcesses: 1 });
  const loadBefore = os.loadavg();
  const flood = {
    maxCount: opts.maxCount,
    maxInFlight: opts.maxInFlight,
    yieldEvery: opts.yieldEvery,
  };
  try {
    await stack.start();
    const redis = await stack.redisFacts();
    log(`stack up: gateway :${stack.port}, 1 client; ${redis.redis} (${redis.redisUrl})`);

    // Warm-up (not recorded): JIT, connections, scripts loaded; then the idle command rate.
    for (const p of PATHS) await stack.flood(p, 1, flood);
    log(`idle stack: ${await stack.measureIdle()} Redis commands/s`);

    const runs: RunResult[] = [];
    for (let i = 0; i < opts.repeats; i++) {
      for (let j = 0; j < PATHS.length; j++) {
        const p = PATHS[(i + j) % PATHS.length]!;
        const r = await stack.flood(p, opts.durationS, flood);
        log(`${i + 1}/${opts.repeats} delivered ${r.deliveredPerSec}/s  ${brief(r)}`);
        runs.push(r);
      }
    }

    const queued = summarize(runs.filter((r) => r.path === 'queued'));
    const emitter = summarize(runs.filter((r) => r.path === 'emitter'));
    const result = {
      scenario: 'throughput',
      setup: {
        ...(await orderRoomSetup(stack, loadBefore, { clients: 1 })),
        sending: `as fast as possible for ${opts.durationS} s: queued via EventManager.emitToOrder with at most ${opts.maxInFlight} emits not yet accepted; emitter via @socket.io/redis-emitter, yielding every ${opts.yieldEvery} emits, at most ${opts.maxInFlight} publishes ahead of a PING; both yield every ${opts.yieldEvery} sends`,
        delivered:
          'distinct events received by the client / (last receipt - first send); after the producer stops, the run waits until the client has every event or nothing arrived for 3 s',
        latency:
          'client receive time - producer send time (send time in data.note); includes the time an event waits behind the backlog',
        cost: "per run, from the first send until Redis is idle again: worker CPU (/proc) and Redis CPU (INFO cpu) per event in µs, Redis commands per event (INFO commandstats), delivery and handler jobs from the queues' id counters",
        durationS: round((Date.now() - started) / 1000, 1),
      },
      durationS: opts.durationS,
      note: `median over ${opts.repeats} runs per path, alternating; ratio = queued / emitter of the medians`,
      queued,
      emitter,
      ratio: {
        deliveredPerSec: ratio(queued.deliveredPerSec, emitter.deliveredPerSec),
        p50: ratio(queued.p50, emitter.p50),
        p99: ratio(queued.p99, emitter.p99),
      },
      target: {
        queuedDeliveredPerSecAtLeast: opts.targetQueuedPerSec,
        met: queued.deliveredPerSec >= opts.targetQueuedPerSec && queued.lost === 0,
      },
      runs,
    };
    log(
      `queued ${queued.deliveredPerSec}/s (sent ${queued.achievedSendRate}/s, lost ${queued.lost}, p50 ${queued.p50} p99 ${queued.p99} ms)  ` +
        `emitter ${emitter.deliveredPerSec}/s (sent ${emitter.achievedSendRate}/s, lost ${emitter.lost}, p50 ${emitter.p50} p99 ${emitter.p99} ms)  ` +
        `target >= ${opts.targetQueuedPerSec}/s queued: ${result.target.met}`,
    );
    writeResult(outFile, result);
    log(`wrote ${outFile}`);
    return result;
  } finally {
    await stack.close();
    log(`stopped ${stack.procs.length} processes`);
  }
}
