import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, Proc } from './procs';
import { round } from './stats';

/**
 * Redis-side accounting for the bench: a private redis-server per scenario (so INFO
 * commandstats and INFO cpu count that scenario's work only), and snapshots of its command
 * counts, CPU time and the BullMQ id counters of the delivery and handler queues.
 */

/**
 * A throwaway redis-server on loopback (no persistence); undefined if none can be started. Tracked
 * as a bench Proc, so it is killed by pid even if the bench exits without reaching its cleanup.
 */
export async function privateRedis(name = 'bench-redis'): Promise<{ url: string; proc: Proc } | undefined> {
  const port = await freePort();
  let child;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const failed = new Promise<undefined>((resolve) => child.once('error', () => resolve(undefined)));
  const proc = new Proc(name, child);
  const url = `redis://127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      if (!proc.alive) return undefined;
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined);
      const ok = await probe.connect().then(() => probe.ping(), () => undefined);
      probe.disconnect();
      if (ok === 'PONG') return { url, proc };
      await new Promise((r) => setTimeout(r, 50));
    }
    await proc.kill();
    return undefined;
  })();
  return Promise.race([ready, failed]);
}

/** Calls per command so far (INFO commandstats), e.g. `evalsha` -> 12345. */
export function parseCommandStats(info: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(match[1] as string, Number(match[2]));
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
  private readonly redis: Redis;

  constructor(
    url: string,
    /** name -> key of a counter to read with each snapshot. */
    private readonly counterKeys: Record<string, string>,
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
  }

  connect(): Promise<void> {
    return this.redis.connect();
  }

  disconnect(): void {
    this.redis.disconnect();
  }

  /** `start`: counters first, then INFO; `end`: INFO first, then counters. */
  async snapshot(kind: 'start' | 'end'): Promise<RedisSnapshot> {
    const names = Object.keys(this.counterKeys);
    const pipe = this.redis.pipeline();
    const gets = () => names.forEach((n) => pipe.get(this.counterKeys[n]!));
    if (kind === 'start') gets();
    pipe.info('commandstats');
    pipe.info('cpu');
    if (kind === 'end') gets();
    const at = performance.now();
    const out = (await pipe.exec()) ?? [];
    const values = out.map(([err, v]) => {
      if (err) throw err;
      return v;
    });
    const infoAt = kind === 'start' ? names.length : 0;
    const counterAt = kind === 'start' ? 0 : 2;
    return {
      at,
      commands: parseCommandStats(String(values[infoAt])),
      cpuS: parseRedisCpu(String(values[infoAt + 1])),
      counters: Object.fromEntries(names.map((n, i) => [n, Number(values[counterAt + i] ?? 0) || 0])),
    };
  }

  /** Commands executed (INFO excluded) so far; for polling. */
  async totalCommands(): Promise<number> {
    let total = 0;
    for (const [cmd, calls] of await commandStats(this.redis)) if (cmd !== 'info') total += calls;
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
    const info = await this.redis.info('server');
    return { version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown', pid: Number(/process_id:(\d+)/.exec(info)?.[1] ?? NaN) };
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
  const counters = Object.fromEntries(Object.keys(b.counters).map((k) => [k, (b.counters[k] ?? 0) - (a.counters[k] ?? 0)]));
  return { commands, byCommand, cpuS: b.cpuS - a.cpuS, counters };
}
