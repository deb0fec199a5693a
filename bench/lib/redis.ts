import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './free-port';
import { Proc } from './procs';
import { round } from './stats';

const run = promisify(execFile);

/**
 * Redis-side accounting for the bench: a private redis-server per scenario (so INFO
 * commandstats and INFO cpu count that scenario's work only), and snapshots of its command
 * counts, CPU time and the BullMQ id counters of the delivery and handler queues.
 */

/**
 * A throwaway redis-server on loopback (no persistence); undefined if none can be started. Tracked
 * as a bench Proc, so it is killed by pid even if the bench exits without reaching its cleanup.
 */
export async function privateRedis(
  name = 'bench-redis',
): Promise<{ url: string; proc: Proc } | undefined> {
  const port = await freePort();
  let child;
  try {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
  } catch {
    return undefined;
  }
  const failed = new Promise<undefined>((resolve) => child.once('error', () => resolve(undefined)));
  const proc = new Proc(name, child);
  const url = `redis://127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      if (!proc.alive) return undefined;
      if (await answersPing(url)) return { url, proc };
      await new Promise((r) => setTimeout(r, 50));
    }
    await proc.kill();
    return undefined;
  })();
  return Promise.race([ready, failed]);
}

/**
 * A throwaway Redis Cluster: `masters` redis-server processes (cluster mode, no persistence) joined
 * with `redis-cli --cluster create`. Each node is a bench Proc, killed by pid.
 */
export async function privateCluster(
  masters = 3,
): Promise<{ url: string; nodeUrls: string[]; procs: Proc[] }> {
  const ports: number[] = [];
  while (ports.length < masters) {
    const port = await freePort([10_000]); // the cluster bus is port + 10000
    if (!ports.includes(port)) ports.push(port);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-bench-cluster-'));
  const procs = ports.map((port, i) => {
    mkdirSync(path.join(dir, String(port)));
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--dir',
        path.join(dir, String(port)),
      ],
      { stdio: 'ignore' },
    );
    return new Proc(`redis-${i + 1}`, child);
  });
  const nodeUrls = ports.map((port) => `redis://127.0.0.1:${port}`);
  try {
    for (const url of nodeUrls) await waitForPong(url);
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      {
        timeout: 30_000,
      },
    );
    for (const url of nodeUrls) await waitForClusterOk(url);
  } catch (err) {
    await Promise.all(procs.map((p) => p.kill()));
    throw err;
  }
  return { url: nodeUrls.join(','), nodeUrls, procs };
}

async function waitForPong(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await answersPing(url)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server at ${url} did not start`);
}

async function waitForClusterOk(url: string): Promise<void> {
  const redis = new Redis(url);
  try {
    for (let i = 0; i < 200; i++) {
      if (/cluster_state:ok/.test(await redis.cluster('INFO'))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`cluster node ${url} not serving`);
  } finally {
    redis.disconnect();
  }
}

/** Calls per command so far (INFO commandstats), e.g. `evalsha` -> 12345. */
export function parseCommandStats(info: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    stats.set(match[1] as string, Number(match[2]));
  return stats;
}

export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  return parseCommandStats(await redis.info('commandstats'));
}

/** CPU seconds (user + system) the Redis server has used so far (INFO cpu), NaN if absent. */
export function parseRedisCpu(info: string): number {
  const user = /used_cpu_user:([\d.]+)/.exec(info)?.[1];
  const sys = /used_cpu_sys:([\d.]+)/.exec(info)?.[1];
  return user === undefined || sys === undefined ? NaN : Number(user) + Number(sys);
}

export interface RedisSnapshot {
  at: number;
  commands: Map<string, number>;
  cpuS: number;
  /** Values of the watched counter keys (BullMQ `<queue>:id`), 0 when absent. */
  counters: Record<string, number>;
}

/** What Redis did between two snapshots, per event. */
export interface RedisDelta {
  /** Commands executed, every client and every call made inside Lua scripts, without the bench's own INFO. */
  commands: number;
  byCommand: Map<string, number>;
  cpuS: number;
  counters: Record<string, number>;
}

/**
 * Takes snapshots on a connection of its own. The bench's own commands do not count: INFO is
 * left out of every delta (nothing in the stack sends INFO during a run), and the counter GETs run
 * before the INFO of the first snapshot and after the INFO of the second, so each cancels out.
 */
export class RedisMeter {
  /** One connection per node: INFO is per server, summed over a cluster's masters. */
  private readonly nodes: Redis[];
  /** Reads the counters wherever their slot is (a Cluster client on a cluster). */
  private readonly counters: Redis | Cluster;

  constructor(
    /** The server, or every master of a cluster. */
    nodeUrls: string[],
    /** name -> key of a counter to read with each snapshot. */
    private readonly counterKeys: Record<string, string>,
  ) {
    this.nodes = nodeUrls.map(
      (url) => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 }),
    );
    for (const node of this.nodes) node.on('error', () => undefined);
    this.counters =
      nodeUrls.length === 1
        ? (this.nodes[0] as Redis)
        : new Cluster(
            nodeUrls.map((u) => ({ host: new URL(u).hostname, port: Number(new URL(u).port) })),
            { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 1 } },
          );
    this.counters.on('error', () => undefined);
  }

  async connect(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.connect()));
    if (this.counters instanceof Cluster) await this.counters.connect();
  }

  disconnect(): void {
    for (const node of this.nodes) node.disconnect();
    this.counters.disconnect();
  }

  private async readCounters(): Promise<Record<string, number>> {
    const names = Object.keys(this.counterKeys);
    const values = await Promise.all(names.map((n) => this.counters.get(this.counterKeys[n]!)));
    return Object.fromEntries(names.map((n, i) => [n, Number(values[i] ?? 0) || 0]));
  }

  /** `start`: counters first, then INFO; `end`: INFO first, then counters. */
  async snapshot(kind: 'start' | 'end'): Promise<RedisSnapshot> {
    const before = kind === 'start' ? await this.readCounters() : undefined;
    const at = performance.now();
    const infos = await Promise.all(
      this.nodes.map(
        async (node) => [await node.info('commandstats'), await node.info('cpu')] as const,
      ),
    );
    const counters = before ?? (await this.readCounters());
    const commands = new Map<string, number>();
    let cpuS = 0;
    for (const [stats, cpu] of infos) {
      for (const [cmd, calls] of parseCommandStats(stats))
        commands.set(cmd, (commands.get(cmd) ?? 0) + calls);
      cpuS += parseRedisCpu(cpu);
    }
    return { at, commands, cpuS, counters };
  }

  /** Commands executed (INFO excluded) so far; for polling. */
  async totalCommands(): Promise<number> {
    let total = 0;
    for (const node of this.nodes)
      for (const [cmd, calls] of await commandStats(node)) if (cmd !== 'info') total += calls;
    return total;
  }

  /** Commands per second while nothing is sent (blocking pops, schedulers, presence heartbeats). */
  async idleRate(windowMs = 1000): Promise<number> {
    const a = await this.totalCommands();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const b = await this.totalCommands();
    return round(((b - a) * 1000) / (performance.now() - t0), 1);
  }

  /**
   * Waits until the work of the run has finished (handler jobs, moves to completed): the command
   * rate over 250 ms windows is back to the idle rate (x2 + 40/s), twice in a row, or maxMs passed.
   * Returns the seconds waited.
   */
  async quiesce(idlePerSec: number, maxMs = 10_000): Promise<number> {
    const start = performance.now();
    const limit = 2 * idlePerSec + 40;
    let last = await this.totalCommands();
    let lastAt = performance.now();
    let calm = 0;
    while (performance.now() - start < maxMs && calm < 2) {
      await new Promise((r) => setTimeout(r, 250));
      const now = await this.totalCommands();
      const t = performance.now();
      calm = ((now - last) * 1000) / (t - lastAt) <= limit ? calm + 1 : 0;
      last = now;
      lastAt = t;
    }
    return round((performance.now() - start) / 1000, 2);
  }

  async serverInfo(): Promise<{ version: string; pid: number }> {
    const info = await (this.nodes[0] as Redis).info('server');
    return {
      version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
      pid: Number(/process_id:(\d+)/.exec(info)?.[1] ?? NaN),
    };
  }
}

export function redisDelta(a: RedisSnapshot, b: RedisSnapshot): RedisDelta {
  const byCommand = new Map<string, number>();
  let commands = 0;
  for (const [cmd, calls] of b.commands) {
    if (cmd === 'info') continue;
    const d = calls - (a.commands.get(cmd) ?? 0);
    if (d > 0) {
      byCommand.set(cmd, d);
      commands += d;
    }
  }
  const counters = Object.fromEntries(
    Object.keys(b.counters).map((k) => [k, (b.counters[k] ?? 0) - (a.counters[k] ?? 0)]),
  );
  return { commands, byCommand, cpuS: b.cpuS - a.cpuS, counters };
}

/** One connection attempt without retries: does a Redis at `url` answer PING? */
async function answersPing(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => undefined);
  const ok = await probe.connect().then(
    () => probe.ping(),
    () => undefined,
  );
  probe.disconnect();
  return ok === 'PONG';
}
