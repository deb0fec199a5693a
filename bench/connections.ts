/**
 * Lean connections (issue "At the edge: slow consumers bounded, lean connections"): what one idle,
 * authenticated websocket connection joined to one order room costs the gateway, beside a bare
 * Socket.IO server (lib/bare-server.ts: /orders, a join_order that joins and acks; no auth, no
 * Redis), measured in the same run.
 *
 * 1. RSS: `connections` sockets (one socket.io-client Manager each, websocket only, no
 *    reconnection; to the gateway each with its own JWT, distinct users, role admin), connection n
 *    joined to `order c<n mod 100>` (ack awaited), opened from `clientProcesses` forked processes
 *    with at most `concurrency` connects in flight each. Gateway (real entry point, with its worker
 *    and a private redis-server) or bare server VmRSS before and ~2 s after the last ack; RSS per
 *    connection = (after - before) / connections; connect rate = joined connections / (last ack -
 *    first connect start).
 * 2. Heap: with `heapConnections` sockets, V8 heap snapshots at 0 (after a warm-up of a few
 *    connections, closed again) and at N, diffed by lib/heapsnap.ts: the object kinds that make up
 *    a connection's memory, per connection.
 * The measured processes run with a bench preload (lib/heap-preload.ts, `node -r`) that does
 * nothing until SIGUSR2 (then: full GC, process.memoryUsage(), and a snapshot when asked).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { loadConfig, type Config } from '../src/config';
import { benchDeploymentEnv, mintBenchTokens } from './lib/auth';
import type { ConnectArgs, ConnectReport } from './lib/conn-clients';
import { freePort } from './lib/free-port';
import { sleep } from './lib/harness';
import type { HeapDiff, HeapRow } from './lib/heapsnap';
import { cpuSeconds, forkHelper, Proc, spawnNode } from './lib/procs';
import { privateRedis } from './lib/redis';
import { runFacts, writeResult } from './lib/report';
import { RssSampler, steadyRss, toMiB } from './lib/rss';
import { Histogram, round } from './lib/stats';

export interface ConnectionsOptions {
  /** Used only when no private redis-server can be started. */
  redisUrl: string;
  connections: number;
  clientProcesses: number;
  /** Connects in flight per client process. */
  concurrency: number;
  /** Connections in the heap-snapshot comparison (0: leave the snapshots out). */
  heapConnections: number;
  /** Wait after the last ack before sampling RSS. */
  settleMs: number;
  /** Per connect and per join ack. */
  timeoutMs: number;
  /** Keep the .heapsnapshot files (they are deleted after the analysis otherwise). */
  keepSnapshots: boolean;
  /** Per-connection target for the gateway, and the goal. */
  targetKiB: number;
  goalKiB: number;
  /** Phase 3, the connect storm: this many clients connect at once (no pacing), 0 leaves it out. */
  stormConnections: number;
  /** Every storm client connected and joined within this (the storm's target). */
  stormWithinS: number;
}

export const CONNECTIONS_DEFAULTS: Omit<ConnectionsOptions, 'redisUrl'> = {
  connections: 10_000,
  clientProcesses: 2,
  concurrency: 32,
  heapConnections: 2000,
  settleMs: 2000,
  timeoutMs: 30_000,
  keepSnapshots: process.env.BENCH_KEEP_SNAPSHOTS === '1',
  targetKiB: 18,
  goalKiB: 15,
  stormConnections: 10_000,
  stormWithinS: 30,
};

type Target = 'gateway' | 'bare';

const DIST = path.resolve(__dirname, '..');
const PRELOAD = path.join(__dirname, 'lib/heap-preload.js');
const WARMUP_CONNECTIONS = 50;

function log(line: string): void {
  process.stdout.write(`[connections] ${line}\n`);
}

/** The `Max open files` soft limit of this process (children inherit it). */
function fdLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** `node -r heap-preload.js <file>`: the real entry point plus the bench's SIGUSR2 hook. */
function spawnWithPreload(name: string, file: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['-r', PRELOAD, file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(name, child);
}

interface HeapLine {
  seq: number;
  memoryUsage: NodeJS.MemoryUsage;
  /** V8 heap spaces: resident bytes and bytes in use. */
  heapSpaces: Record<string, { physical: number; used: number }>;
  file?: string;
}

/**
 * Where the RSS growth between two preload lines (both right after a full GC) sits, per
 * connection (KiB): each V8 heap space's resident size, ArrayBuffer/external memory, and the rest
 * (native allocations by Node, libuv, llhttp, the allocator's own overhead and fragmentation).
 */
function rssBreakdown(a: HeapLine, b: HeapLine, n: number) {
  const spaces: Record<string, number> = {};
  let v8 = 0;
  for (const name of new Set([...Object.keys(a.heapSpaces), ...Object.keys(b.heapSpaces)])) {
    const d = (b.heapSpaces[name]?.physical ?? 0) - (a.heapSpaces[name]?.physical ?? 0);
    v8 += d;
    spaces[name] = perConn(d, n);
  }
  const rss = b.memoryUsage.rss - a.memoryUsage.rss;
  const external = b.memoryUsage.external - a.memoryUsage.external;
  return {
    rss: perConn(rss, n),
    v8HeapResident: perConn(v8, n),
    v8HeapUsed: perConn(b.memoryUsage.heapUsed - a.memoryUsage.heapUsed, n),
    v8Spaces: spaces,
    external: perConn(external, n),
    nativeAndOther: perConn(rss - v8 - external, n),
  };
}

/** Collects the preload's `bench-heap {...}` lines from a process's stdout. */
function heapLines(stream: Readable | null): { lines: HeapLine[] } {
  const state = { lines: [] as HeapLine[] };
  let carry = '';
  stream?.on('data', (chunk: Buffer) => {
    const text = carry + chunk.toString();
    const parts = text.split('\n');
    carry = parts.pop() ?? '';
    for (const line of parts)
      if (line.startsWith('bench-heap '))
        state.lines.push(JSON.parse(line.slice('bench-heap '.length)) as HeapLine);
  });
  return state;
}

/** One measured server: the gateway (with worker and Redis) or the bare Socket.IO server. */
class TargetStack {
  readonly procs: Proc[] = [];
  server!: Proc;
  port = 0;
  config: Config | undefined;
  redisUrl = '';
  ownRedis = false;
  private heap!: { lines: HeapLine[] };

  constructor(
    readonly target: Target,
    private readonly redisFallback: string,
    private readonly heapDir?: string,
  ) {}

  async start(): Promise<void> {
    this.port = await freePort();
    const heapEnv: Record<string, string> = this.heapDir
      ? { BENCH_HEAP_DIR: this.heapDir, BENCH_HEAP_LABEL: this.target }
      : {};
    if (this.target === 'bare') {
      this.server = this.track(
        spawnWithPreload('bare', path.join(__dirname, 'lib/bare-server.js'), {
          PORT: String(this.port),
          HOST: '127.0.0.1',
          ...heapEnv,
        }),
      );
      this.heap = heapLines(this.server.child.stdout);
      await this.server.waitForOutput('bare ready');
      return;
    }
    const own = await privateRedis('connections-redis');
    if (own) this.track(own.proc);
    this.ownRedis = own !== undefined;
    this.redisUrl = own?.url ?? this.redisFallback;
    const env: Record<string, string> = {
      REDIS_URL: this.redisUrl,
      KEY_PREFIX: `bench-conn-${Date.now().toString(36)}-${process.pid}`,
      PORT: String(this.port),
      HOST: '127.0.0.1',
      // The worker's /metrics on a free port: no clash with an `npm start` on the same host.
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...benchDeploymentEnv(),
    };
    this.config = loadConfig({ ...process.env, ...env });
    this.server = this.track(
      spawnWithPreload('gateway', path.join(DIST, 'src/app/gateway-main.js'), {
        ...env,
        ...heapEnv,
      }),
    );
    this.heap = heapLines(this.server.child.stdout);
    const worker = this.track(spawnNode('worker', path.join(DIST, 'workers/main.js'), env));
    await Promise.all([
      this.server.waitForOutput('gateway ready', 30_000),
      worker.waitForOutput('worker ready', 30_000),
    ]);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** SIGUSR2 to the server: full GC, memoryUsage and (with a heap dir) a snapshot; waits for its line. */
  async signalHeap(timeoutMs = 180_000): Promise<HeapLine> {
    const seq = this.heap.lines.length + 1;
    process.kill(this.server.pid, 'SIGUSR2');
    const deadline = Date.now() + timeoutMs;
    while (this.heap.lines.length < seq) {
      if (!this.server.alive)
        throw new Error(
          `${this.target} exited while writing its heap snapshot: ${this.server.tail.slice(-800)}`,
        );
      if (Date.now() > deadline) throw new Error(`${this.target}: no heap line in ${timeoutMs} ms`);
      await sleep(100);
    }
    return this.heap.lines[seq - 1]!;
  }

  track(p: Proc): Proc {
    this.procs.push(p);
    return p;
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill().catch(() => undefined)));
  }
}

interface Clients {
  procs: Proc[];
  close(): Promise<void>;
}

async function forkClients(url: string, n: number): Promise<Clients> {
  const procs = Array.from({ length: n }, (_, i) =>
    forkHelper(`conn-clients${i}`, path.join(__dirname, 'lib/conn-clients.js'), [url]),
  );
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`${p.name} not ready: ${p.tail.slice(-400)}`)),
            30_000,
          );
          p.onMessage((m) => {
            if ((m as { event?: string }).event === 'ready') {
              clearTimeout(timer);
              resolve();
            }
          });
        }),
    ),
  );
  return {
    procs,
    close: async () => {
      await Promise.all(procs.map((p) => p.kill().catch(() => undefined)));
    },
  };
}

interface ConnectOutcome {
  opened: number;
  failed: number;
  errors: string[];
  wallS: number;
  perSec: number;
  latency: ReturnType<Histogram['summary']>;
}

/** Opens `count` connections spread over the client processes (connection ids from `first`). */
async function connectAll(
  clients: Clients,
  count: number,
  first: number,
  tokens: string[] | undefined,
  opts: ConnectionsOptions,
): Promise<ConnectOutcome> {
  const per = Math.ceil(count / clients.procs.length);
  const calls: Array<Promise<ConnectReport>> = [];
  for (let i = 0, at = 0; at < count; i++, at += per) {
    const n = Math.min(per, count - at);
    const args: ConnectArgs = {
      count: n,
      first: first + at,
      concurrency: opts.concurrency,
      timeoutMs: opts.timeoutMs,
      ...(tokens ? { tokens: tokens.slice(at, at + n) } : {}),
    };
    calls.push(clients.procs[i]!.call<ConnectReport>('connect', args, 600_000));
  }
  const reports = await Promise.all(calls);
  const hist = new Histogram();
  for (const r of reports) hist.merge(r.hist, r.max, r.sum);
  const opened = reports.reduce((a, r) => a + r.opened, 0);
  const wallS =
    (Math.max(...reports.map((r) => r.lastAckAt)) -
      Math.min(...reports.map((r) => r.firstStartAt))) /
    1000;
  return {
    opened,
    failed: reports.reduce((a, r) => a + r.failed, 0),
    errors: reports.flatMap((r) => r.errors).slice(0, 5),
    wallS: round(wallS, 2),
    perSec: round(opened / Math.max(0.001, wallS), 0),
    latency: hist.summary(),
  };
}

async function stillConnected(
  clients: Clients,
): Promise<{ connected: number; dropped: number; dropReasons: Record<string, number> }> {
  const rs = await Promise.all(
    clients.procs.map((p) =>
      p.call<{ connected: number; dropped: number; dropReasons: Record<string, number> }>(
        'connected',
      ),
    ),
  );
  const dropReasons: Record<string, number> = {};
  for (const r of rs)
    for (const [k, v] of Object.entries(r.dropReasons)) dropReasons[k] = (dropReasons[k] ?? 0) + v;
  return {
    connected: rs.reduce((a, r) => a + r.connected, 0),
    dropped: rs.reduce((a, r) => a + r.dropped, 0),
    dropReasons,
  };
}

async function tokensFor(
  stack: TargetStack,
  label: string,
  n: number,
): Promise<string[] | undefined> {
  return stack.config ? mintBenchTokens(stack.config, label, n) : undefined;
}

const perConn = (bytes: number, n: number) => round(bytes / n / 1024, 2);

/** Phase 1: RSS per connection and connect rate with opts.connections sockets. */
async function measureRss(target: Target, opts: ConnectionsOptions) {
  const stack = new TargetStack(target, opts.redisUrl);
  let clients: Clients | undefined;
  try {
    await stack.start();
    const tokens = await tokensFor(stack, 'bench-conn', opts.connections);
    clients = await forkClients(stack.url, opts.clientProcesses);
    const pid = stack.server.pid;
    // A settled baseline: start-up garbage collected, then a quiet moment.
    const memBefore = await stack.signalHeap();
    await sleep(1000);
    const rssBefore = await steadyRss(pid);
    const cpu0 = cpuSeconds(pid);
    const sampler = new RssSampler(pid).start();
    const outcome = await connectAll(clients, opts.connections, 0, tokens, opts);
    const cpu1 = cpuSeconds(pid);
    await sleep(opts.settleMs);
    const rssAfter = await steadyRss(pid);
    const rss = sampler.stop();
    const up = await stillConnected(clients);
    // After the RSS figure: a full GC, then memoryUsage and RSS again (what is live, not just held).
    const memAfter = await stack.signalHeap();
    const rssAfterGc = await steadyRss(pid, 3);
    const n = outcome.opened;
    const mu = (k: keyof NodeJS.MemoryUsage) =>
      perConn(memAfter.memoryUsage[k] - memBefore.memoryUsage[k], n);
    const result = {
      target,
      connections: opts.connections,
      opened: n,
      failed: outcome.failed,
      ...(outcome.errors.length ? { errors: outcome.errors } : {}),
      stillConnected: up.connected,
      ...(up.dropped ? { dropped: up.dropped, dropReasons: up.dropReasons } : {}),
      rssBeforeMiB: toMiB(rssBefore),
      rssAfterMiB: toMiB(rssAfter),
      rssPeakMiB: toMiB(rss.peakBytes),
      rssAfterGcMiB: toMiB(rssAfterGc),
      rssPerConnectionKiB: perConn(rssAfter - rssBefore, n),
      rssPerConnectionAfterGcKiB: perConn(rssAfterGc - rssBefore, n),
      /** process.memoryUsage() after a full GC, at 0 and at n connections: growth per connection. */
      memoryUsagePerConnectionKiB: {
        heapUsed: mu('heapUsed'),
        heapTotal: mu('heapTotal'),
        external: mu('external'),
        arrayBuffers: mu('arrayBuffers'),
        rss: mu('rss'),
      },
      /** After a full GC at 0 and at n connections: V8 heap spaces (resident), external, and the rest. */
      rssBreakdownPerConnectionKiB: rssBreakdown(memBefore, memAfter, n),
      connectRatePerSec: outcome.perSec,
      connectWallS: outcome.wallS,
      connectLatencyMs: outcome.latency,
      serverCpuUsPerConnection: round(((cpu1 - cpu0) / Math.max(1, n)) * 1e6, 0),
      serverCpuPctDuringConnect: round(((cpu1 - cpu0) / Math.max(0.001, outcome.wallS)) * 100, 0),
      ...(stack.config ? { privateRedis: stack.ownRedis } : {}),
    };
    log(
      `${target.padEnd(7)} ${n}/${opts.connections} joined in ${outcome.wallS} s (${outcome.perSec}/s, p50 ${outcome.latency.p50} p99 ${outcome.latency.p99} ms)` +
        `  RSS ${result.rssBeforeMiB} -> ${result.rssAfterMiB} MiB: ${result.rssPerConnectionKiB} KiB/conn (after GC ${result.rssPerConnectionAfterGcKiB}); heapUsed ${result.memoryUsagePerConnectionKiB.heapUsed} KiB/conn, external ${result.memoryUsagePerConnectionKiB.external}` +
        `  cpu ${result.serverCpuUsPerConnection} µs/conn; still up ${up.connected}${outcome.failed ? `; FAILED ${outcome.failed}: ${outcome.errors[0]}` : ''}`,
    );
    return result;
  } finally {
    await clients?.close();
    await stack.close();
  }
}

/**
 * Phase 3, the connect storm: opts.stormConnections clients start connecting at the same moment
 * (every connect in flight at once in each client process), each must connect and join within
 * opts.stormWithinS. Reports connects/s and the server's CPU per handshake (connect + auth + join
 * ack), beside the bare server's from the same run.
 */
async function measureStorm(target: Target, opts: ConnectionsOptions) {
  const n = opts.stormConnections;
  const stack = new TargetStack(target, opts.redisUrl);
  let clients: Clients | undefined;
  try {
    await stack.start();
    const tokens = await tokensFor(stack, 'bench-storm', n);
    clients = await forkClients(stack.url, opts.clientProcesses);
    const pid = stack.server.pid;
    const cpu0 = cpuSeconds(pid);
    const outcome = await connectAll(clients, n, 0, tokens, {
      ...opts,
      concurrency: Math.ceil(n / opts.clientProcesses),
      timeoutMs: opts.stormWithinS * 1000,
    });
    const cpu1 = cpuSeconds(pid);
    const up = await stillConnected(clients);
    const result = {
      target,
      connections: n,
      opened: outcome.opened,
      failed: outcome.failed,
      ...(outcome.errors.length ? { errors: outcome.errors } : {}),
      stillConnected: up.connected,
      wallS: outcome.wallS,
      connectsPerSec: outcome.perSec,
      connectLatencyMs: outcome.latency,
      serverCpuUsPerHandshake: round(((cpu1 - cpu0) / Math.max(1, outcome.opened)) * 1e6, 0),
      serverCpuPctDuringStorm: round(((cpu1 - cpu0) / Math.max(0.001, outcome.wallS)) * 100, 0),
      allJoinedWithinTarget: outcome.failed === 0 && outcome.wallS <= opts.stormWithinS,
    };
    log(
      `storm ${target.padEnd(7)} ${outcome.opened}/${n} joined in ${outcome.wallS} s (${outcome.perSec}/s, p50 ${outcome.latency.p50} p99 ${outcome.latency.p99} ms), server cpu ${result.serverCpuUsPerHandshake} µs per handshake (${result.serverCpuPctDuringStorm}% of a core)` +
        (outcome.failed ? `; FAILED ${outcome.failed}: ${outcome.errors[0]}` : ''),
    );
    return result;
  } finally {
    await clients?.close();
    await stack.close();
  }
}

/** Phase 2: heap snapshots at 0 and N connections, diffed per connection. */
async function measureHeap(target: Target, opts: ConnectionsOptions, dir: string) {
  const n = opts.heapConnections;
  const stack = new TargetStack(target, opts.redisUrl, dir);
  let clients: Clients | undefined;
  const files: string[] = [];
  try {
    await stack.start();
    const tokens = await tokensFor(stack, 'bench-heap', n + WARMUP_CONNECTIONS);
    clients = await forkClients(stack.url, opts.clientProcesses);
    // Warm-up: the code paths of a connection compiled and loaded, so the base snapshot has them too.
    const warm = await connectAll(clients, WARMUP_CONNECTIONS, 0, tokens?.slice(n), opts);
    if (warm.failed)
      throw new Error(`${target} warm-up: ${warm.failed} connects failed: ${warm.errors[0]}`);
    await Promise.all(clients.procs.map((p) => p.call('close')));
    await sleep(1500);
    const t0 = performance.now();
    const base = await stack.signalHeap();
    const baseS = (performance.now() - t0) / 1000;
    files.push(base.file!);
    const outcome = await connectAll(clients, n, 0, tokens?.slice(0, n), opts);
    if (outcome.failed)
      throw new Error(`${target}: ${outcome.failed} of ${n} connects failed: ${outcome.errors[0]}`);
    await sleep(opts.settleMs);
    const withN = await stack.signalHeap();
    files.push(withN.file!);
    const up = await stillConnected(clients);
    await clients.close();
    clients = undefined;
    await stack.close();
    log(
      `${target}: snapshots written (${round(baseS, 1)} s each), ${up.connected}/${n} still connected; analysing`,
    );
    const out = path.join(dir, `${target}-diff.json`);
    const analyser = new Proc(
      'heapsnap',
      spawn(
        process.execPath,
        [
          '--max-old-space-size=8192',
          path.join(__dirname, 'lib/heapsnap.js'),
          base.file!,
          withN.file!,
          String(outcome.opened),
          out,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    );
    const code = await new Promise<number | null>((resolve) =>
      analyser.child.once('exit', (c) => resolve(c)),
    );
    if (code !== 0)
      throw new Error(`heap analysis of ${target} failed (${code}): ${analyser.tail.slice(-800)}`);
    const diff = JSON.parse(readFileSync(out, 'utf8')) as HeapDiff;
    const mu = (k: keyof NodeJS.MemoryUsage) =>
      perConn(withN.memoryUsage[k] - base.memoryUsage[k], outcome.opened);
    return {
      target,
      connections: outcome.opened,
      stillConnected: up.connected,
      warmup: `${WARMUP_CONNECTIONS} connections opened and closed before the base snapshot`,
      snapshotMiB: { base: diff.files.baseMiB, withConnections: diff.files.withConnectionsMiB },
      heapBytesPerConnection: diff.heapBytes.perConnection,
      memoryUsagePerConnectionKiB: {
        heapUsed: mu('heapUsed'),
        external: mu('external'),
        arrayBuffers: mu('arrayBuffers'),
      },
      heapPerConnection: diff.byClass
        .slice(0, 20)
        .map(({ name, bytes, count }) => ({ name, bytes, count })),
      tables: diff,
    };
  } finally {
    await clients?.close();
    await stack.close();
    if (!opts.keepSnapshots) for (const f of files) rmSync(f, { force: true });
  }
}

/** What the gateway has per connection beyond the bare server, by the same grouping (bytes, count). */
function minus(gateway: HeapRow[], bare: HeapRow[], top = 20): HeapRow[] {
  const b = new Map(bare.map((r) => [r.name, r]));
  const names = new Set([...gateway.map((r) => r.name), ...bare.map((r) => r.name)]);
  const g = new Map(gateway.map((r) => [r.name, r]));
  return [...names]
    .map((name) => ({
      name,
      bytes: round((g.get(name)?.bytes ?? 0) - (b.get(name)?.bytes ?? 0), 1),
      count: round((g.get(name)?.count ?? 0) - (b.get(name)?.count ?? 0), 2),
    }))
    .sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes))
    .slice(0, top);
}

const GROUPINGS = [
  'byClass',
  'objectShapes',
  'closuresByRetainer',
  'plainObjectsByRetainer',
  'stringsByRetainer',
  'internalArraysByRetainer',
  'retainedByShape',
] as const;

function gatewayMinusBare(
  gateway: HeapDiff,
  bare: HeapDiff,
  top = 20,
): Record<(typeof GROUPINGS)[number], HeapRow[]> {
  return Object.fromEntries(GROUPINGS.map((k) => [k, minus(gateway[k], bare[k], top)])) as Record<
    (typeof GROUPINGS)[number],
    HeapRow[]
  >;
}

/** The result file keeps the head of each table (the analysis lists up to 100 rows per grouping). */
function trimHeap({ tables, ...rest }: Awaited<ReturnType<typeof measureHeap>>) {
  return {
    ...rest,
    heapBytes: tables.heapBytes,
    byType: tables.byType,
    ...Object.fromEntries(GROUPINGS.map((k) => [k, tables[k].slice(0, k === 'byClass' ? 40 : 25)])),
  };
}

function table(rows: HeapRow[], n = 20): string {
  return rows
    .slice(0, n)
    .map(
      (r) =>
        `    ${String(Math.round(r.bytes)).padStart(7)} B  ${r.count.toFixed(2).padStart(6)}x  ${r.name}${r.example ? `  e.g. ${r.example}` : ''}`,
    )
    .join('\n');
}

export async function runConnections(opts: ConnectionsOptions, outFile: string): Promise<unknown> {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const limit = fdLimit();
  const perProcess = Math.ceil(opts.connections / opts.clientProcesses);
  // Each connection is one fd in a client process and one in the server.
  if (Number.isFinite(limit) && (perProcess + 100 > limit || opts.connections + 500 > limit)) {
    throw new Error(
      `open files limit ${limit} is too low for ${opts.connections} connections (${perProcess} per client process); raise it (ulimit -n) or use more client processes`,
    );
  }
  log(
    `fd limit ${limit}; ${opts.connections} connections from ${opts.clientProcesses} processes (${opts.concurrency} in flight each); heap snapshots at 0 and ${opts.heapConnections}`,
  );

  const rss = { gateway: await measureRss('gateway', opts), bare: await measureRss('bare', opts) };
  for (const t of ['gateway', 'bare'] as const)
    log(
      `${t} RSS breakdown per connection (KiB, after full GC, ${rss[t].opened} connections): ${JSON.stringify(rss[t].rssBreakdownPerConnectionKiB)}`,
    );

  const storm =
    opts.stormConnections > 0
      ? { gateway: await measureStorm('gateway', opts), bare: await measureStorm('bare', opts) }
      : undefined;

  let heap: Record<Target, Awaited<ReturnType<typeof measureHeap>>> | undefined;
  if (opts.heapConnections > 0) {
    const dir = path.join(os.tmpdir(), `switchboard-heap-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      heap = {
        gateway: await measureHeap('gateway', opts, dir),
        bare: await measureHeap('bare', opts, dir),
      };
    } finally {
      if (!opts.keepSnapshots) rmSync(dir, { recursive: true, force: true });
    }
    for (const t of ['gateway', 'bare'] as const) {
      const h = heap[t];
      log(
        `${t}: V8 heap +${h.heapBytesPerConnection} B per connection (snapshot diff, ${h.connections} connections); top 20 by self size:\n${table(h.tables.byClass)}`,
      );
    }
    const gm = gatewayMinusBare(heap.gateway.tables, heap.bare.tables);
    log(`gateway minus bare, per connection (V8 heap self size):\n${table(gm.byClass, 20)}`);
    log(`gateway minus bare, objects by shape:\n${table(gm.objectShapes, 15)}`);
    log(`gateway minus bare, functions by what holds them:\n${table(gm.closuresByRetainer, 12)}`);
    log(`gateway minus bare, strings by what holds them:\n${table(gm.stringsByRetainer, 10)}`);
    log(
      `gateway, retained size (dominator tree) of the per-connection objects:\n${table(heap.gateway.tables.retainedByShape, 12)}`,
    );
  }

  const g = rss.gateway.rssPerConnectionKiB;
  const youngKiB = (r: (typeof rss)['gateway']) =>
    r.rssBreakdownPerConnectionKiB.v8Spaces.new_space ?? 0;
  const youngMiB = (r: (typeof rss)['gateway']) => round((youngKiB(r) * r.opened) / 1024, 1);
  const withoutYoung = (r: (typeof rss)['gateway']) =>
    round(r.rssPerConnectionKiB - youngKiB(r), 2);
  const result = {
    scenario: 'connections',
    setup: {
      ...runFacts(loadBefore),
      openFilesLimit: limit,
      connections: opts.connections,
      clientProcesses: opts.clientProcesses,
      concurrencyPerProcess: opts.concurrency,
      clients:
        'socket.io-client, one Manager per connection (forceNew), transports [websocket], reconnection false; gateway: auth.token = its own JWT (distinct users, role admin); bare: no auth; connection n sends join_order { orderId: c<n mod 100> } and awaits the ack',
      gateway:
        'dist/src/app/gateway-main.js (real entry point) with a worker (dist/workers/main.js) and a private redis-server, AUTH_MODE=required, default limits, LOG_LEVEL=info',
      bare: 'bench/lib/bare-server.ts: new Server(http) with defaults, namespace /orders, join_order joins order:<id> and acks; no auth, no adapter',
      preload:
        'both servers run with `node -r dist/bench/lib/heap-preload.js` (idle until SIGUSR2: full GC, process.memoryUsage(), heap snapshot when asked)',
      rss: `VmRSS of the server process: before = median of 5 samples 200 ms apart, taken 1 s after a full GC of the idle server; after = the same, ${opts.settleMs} ms after the last ack (no forced GC); per connection = (after - before) / joined connections; afterGc = after a full GC at the end`,
      connectRate:
        'joined connections / (last join ack - first connect start), over all client processes (one clock)',
      storm: `${opts.stormConnections} clients from ${opts.clientProcesses} processes, every connect started at once (no pacing), each with ${opts.stormWithinS} s to connect and join; server CPU per handshake = server process CPU over the storm / joined connections`,
      heap: `V8 heap snapshots (v8.writeHeapSnapshot after a full GC) at 0 connections (after ${WARMUP_CONNECTIONS} warm-up connections opened and closed) and at ${opts.heapConnections}; self sizes aggregated (lib/heapsnap.ts) and diffed, per connection`,
      durationS: round((Date.now() - started) / 1000, 1),
    },
    summary: {
      rssPerConnectionKiB: {
        gateway: g,
        bare: rss.bare.rssPerConnectionKiB,
        gatewayMinusBare: round(g - rss.bare.rssPerConnectionKiB, 2),
      },
      rssPerConnectionAfterGcKiB: {
        gateway: rss.gateway.rssPerConnectionAfterGcKiB,
        bare: rss.bare.rssPerConnectionAfterGcKiB,
      },
      heapUsedPerConnectionKiB: {
        gateway: rss.gateway.memoryUsagePerConnectionKiB.heapUsed,
        bare: rss.bare.memoryUsagePerConnectionKiB.heapUsed,
      },
      connectRatePerSec: {
        gateway: rss.gateway.connectRatePerSec,
        bare: rss.bare.connectRatePerSec,
      },
      ...(storm
        ? {
            storm: {
              connections: opts.stormConnections,
              withinS: opts.stormWithinS,
              joined: { gateway: storm.gateway.opened, bare: storm.bare.opened },
              failed: { gateway: storm.gateway.failed, bare: storm.bare.failed },
              wallS: { gateway: storm.gateway.wallS, bare: storm.bare.wallS },
              connectsPerSec: {
                gateway: storm.gateway.connectsPerSec,
                bare: storm.bare.connectsPerSec,
              },
              serverCpuUsPerHandshake: {
                gateway: storm.gateway.serverCpuUsPerHandshake,
                bare: storm.bare.serverCpuUsPerHandshake,
                ratio: round(
                  storm.gateway.serverCpuUsPerHandshake /
                    Math.max(1, storm.bare.serverCpuUsPerHandshake),
                  2,
                ),
              },
              met: storm.gateway.allJoinedWithinTarget,
            },
          }
        : {}),
      ...(heap
        ? {
            heapSnapshotBytesPerConnection: {
              gateway: heap.gateway.heapBytesPerConnection,
              bare: heap.bare.heapBytesPerConnection,
            },
          }
        : {}),
      /**
       * V8's young generation grows to its maximum during a burst of connects and stays: a fixed
       * cost (MiB) that the per-connection figure spreads over the connections; without it:
       */
      youngGenerationGrowthMiB: { gateway: youngMiB(rss.gateway), bare: youngMiB(rss.bare) },
      rssPerConnectionWithoutYoungGenerationKiB: {
        gateway: withoutYoung(rss.gateway),
        bare: withoutYoung(rss.bare),
      },
      target: {
        maxKiBPerConnection: opts.targetKiB,
        goalKiB: opts.goalKiB,
        gateway: g,
        met: g <= opts.targetKiB,
        goalMet: g <= opts.goalKiB,
      },
    },
    rss,
    ...(storm ? { storm } : {}),
    ...(heap
      ? {
          /** The gateway's top 20 object kinds by bytes per connection (self size, V8 heap). */
          heapPerConnection: heap.gateway.heapPerConnection,
          heapPerConnectionBare: heap.bare.heapPerConnection,
          /** Gateway minus bare server per connection, by each grouping (the largest differences either way). */
          heapPerConnectionGatewayMinusBare: gatewayMinusBare(
            heap.gateway.tables,
            heap.bare.tables,
          ),
          heap: { gateway: trimHeap(heap.gateway), bare: trimHeap(heap.bare) },
        }
      : {}),
  };
  writeResult(outFile, result);
  log(
    `summary: RSS per connection gateway ${g} KiB (target <= ${opts.targetKiB}, goal ${opts.goalKiB}), bare ${rss.bare.rssPerConnectionKiB} KiB` +
      ` (without the young generation's growth, ${youngMiB(rss.gateway)} and ${youngMiB(rss.bare)} MiB: ${withoutYoung(rss.gateway)} and ${withoutYoung(rss.bare)} KiB);` +
      ` connect rate gateway ${rss.gateway.connectRatePerSec}/s, bare ${rss.bare.connectRatePerSec}/s (server CPU ${rss.gateway.serverCpuUsPerConnection} and ${rss.bare.serverCpuUsPerConnection} µs per connection)`,
  );
  log(`wrote ${outFile}`);
  return result;
}
