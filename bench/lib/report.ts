import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { round } from './stats';

/** The repository root, from dist/bench/lib (compiled) or bench/lib (tsx). */
export const ROOT = path.resolve(
  __dirname,
  __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..',
);

function versionOf(pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}

/** What a reader needs to compare these figures with another run. */
/** machineFacts() plus the load averages before (`loadBefore`, from os.loadavg()) and after a scenario. */
export function runFacts(loadBefore: number[]) {
  return {
    ...machineFacts(),
    loadavgBefore: loadBefore.map((v) => round(v)),
    loadavgAfter: os.loadavg().map((v) => round(v)),
  };
}

export function machineFacts() {
  const cpus = os.cpus();
  return {
    runDate: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    packages: Object.fromEntries(
      [
        'socket.io',
        'socket.io-client',
        '@socket.io/redis-adapter',
        '@socket.io/redis-emitter',
        'bullmq',
        'ioredis',
      ].map((p) => [p, versionOf(p)]),
    ),
  };
}

export function writeResult(file: string, result: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}

/**
 * What one run cost per event, the fields every RunResult (e2e, throughput) carries as `cost`.
 * Window: from just before the first send until the stack is idle again after the last receipt
 * (handler jobs and completions included), so the work an event causes after delivery counts too.
 */
export interface CostPerEvent {
  /** Events accepted in the run (sent - failed sends): the denominator of every figure below. */
  events: number;
  /** Seconds of the cost window; `settleS` of it spent waiting for Redis to go idle after the last receipt. */
  windowS: number;
  settleS: number;
  /** Worker process CPU (user + system, /proc) per event, in microseconds. */
  workerCpuUsPerEvent: number;
  /** Redis server CPU (INFO cpu used_cpu_user + used_cpu_sys) per event, in microseconds. */
  redisCpuUsPerEvent: number;
  /** Every bench process's CPU per event (µs), gateway, producer and clients included. */
  cpuUsPerEvent: Record<string, number>;
  /** Commands Redis executed in the window (INFO commandstats `calls` deltas, calls inside Lua included, the bench's INFO excluded). */
  redisCommands: number;
  redisCommandsPerEvent: number;
  /** The most executed commands, calls per event. */
  topCommandsPerEvent: Record<string, number>;
  /** Commands per second the idle stack runs anyway (blocking pops, heartbeats), measured once after the warm-up; included above. */
  idleCommandsPerSec: number;
  /** Delivery jobs added (delta of the delivery queue's id counter `<bullPrefix>:<QUEUE_NAME>:id`). */
  deliveryJobs: number;
  /** events / deliveryJobs; null when no auto-id delivery job was added (emitter path, or job ids not auto-incremented). */
  eventsPerJob: number | null;
  /** Handler jobs added (delta of `<bullPrefix>:<QUEUE_NAME>-handlers:id`) and per event. */
  handlerJobs: number;
  handlerJobsPerEvent: number;
}

/** The median of each cost figure over runs (topCommandsPerEvent: median per command over the runs). */
export function medianCost(costs: CostPerEvent[]) {
  const med = (pick: (c: CostPerEvent) => number | null, digits = 2) => {
    const xs = costs
      .map(pick)
      .filter((v): v is number => v !== null && Number.isFinite(v))
      .sort((a, b) => a - b);
    if (xs.length === 0) return null;
    const mid = xs.length >> 1;
    const m =
      xs.length % 2 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
    return Math.round(m * 10 ** digits) / 10 ** digits;
  };
  const commands = [...new Set(costs.flatMap((c) => Object.keys(c.topCommandsPerEvent)))];
  const top = commands
    .map((cmd) => [cmd, med((c) => c.topCommandsPerEvent[cmd] ?? 0, 3) ?? 0] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  const procs = [...new Set(costs.flatMap((c) => Object.keys(c.cpuUsPerEvent)))];
  return {
    workerCpuUsPerEvent: med((c) => c.workerCpuUsPerEvent, 1),
    redisCpuUsPerEvent: med((c) => c.redisCpuUsPerEvent, 1),
    redisCommandsPerEvent: med((c) => c.redisCommandsPerEvent, 3),
    eventsPerJob: med((c) => c.eventsPerJob, 1),
    deliveryJobs: med((c) => c.deliveryJobs, 0),
    handlerJobsPerEvent: med((c) => c.handlerJobsPerEvent, 4),
    cpuUsPerEvent: Object.fromEntries(
      procs.map((p) => [p, med((c) => c.cpuUsPerEvent[p] ?? NaN, 1)]),
    ),
    topCommandsPerEvent: Object.fromEntries(top),
  };
}

/** How a scenario's Redis was provided: its own server (exact command counts) or the shared one. */
export function redisSetup(own: boolean | 'cluster', url: string, version: string) {
  if (own === 'cluster') {
    return {
      redis:
        'private Redis Cluster started by the bench: 3 masters on loopback, no replicas, no persistence; INFO commandstats and cpu summed over the masters',
      redisUrl: url,
      redisVersion: version,
    };
  }
  return own
    ? {
        redis:
          'private redis-server started by the bench on loopback (no persistence): INFO commandstats and cpu count this scenario only',
        redisUrl: url,
        redisVersion: version,
      }
    : {
        redis: `no private redis-server could be started; shared ${url}: other traffic on it inflates command counts and Redis CPU`,
        redisUrl: url,
        redisVersion: version,
      };
}
