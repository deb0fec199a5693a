/**
 * Slow consumers (issue "At the edge: slow consumers bounded, lean connections"): one gateway and
 * one worker from their real entry points on a private redis-server, 100 healthy clients and 10
 * stalled clients (their TCP sockets paused after the join, see lib/stalled-clients.ts) in one
 * order room, `rate` events/s of order_status_changed with a 500-character note for `durationS`
 * through the queued path (EventManager in the producer process). Measures the gateway's RSS
 * (VmRSS every 200 ms: before the run, peak during), how many stalled clients the gateway
 * closed (its 'closing a slow consumer' log lines, and each stalled client's disconnect once it
 * reads again), and the healthy clients' latency; the same runs without stalled clients
 * alternate with them (with, without, with, without), so healthy p99 with / without is a ratio
 * of the same stack. Last, once, with MAX_CLIENT_BUFFER_BYTES at 1 GiB (no cap in effect): the
 * growth the cap prevents.
 */
import os from 'node:os';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { brief } from './e2e';
import { mintBenchTokens } from './lib/auth';
import { BenchStack, sleep, type RunResult } from './lib/harness';
import { forkHelper, type Proc } from './lib/procs';
import { BENCH_ORDER } from './lib/protocol';
import { runFacts, writeResult } from './lib/report';
import { RssSampler, steadyRss, toMiB } from './lib/rss';
import { median, ratio, round } from './lib/stats';

export interface SlowConsumerOptions {
  redisUrl: string;
  healthyClients: number;
  clientProcesses: number;
  stalledClients: number;
  rate: number;
  durationS: number;
  /** Runs with stalled clients and runs without (alternating); medians over each. */
  repeats: number;
  /** The `note` length (the catalog's limit is 500). */
  noteBytes: number;
  /** The comparison run with MAX_CLIENT_BUFFER_BYTES at 1 GiB; 0 leaves it out. */
  noCapDurationS: number;
  /** How long stalled clients, reading again, get to see their disconnect. */
  resumeWaitMs: number;
  /** Unrecorded run at the same rate first, on each stack: JIT and the V8 heap settle (a fresh gateway's heap grows for ~10 s under this load). */
  warmupS: number;
}

export const SLOW_CONSUMER_DEFAULTS: Omit<SlowConsumerOptions, 'redisUrl'> = {
  healthyClients: 100,
  clientProcesses: 2,
  stalledClients: 10,
  rate: 1000,
  durationS: 20,
  repeats: 2,
  noteBytes: 500,
  // As long as the capped runs: the kernel's socket buffers take the first ~4.5 MB of each stalled
  // socket (~7 s at this rate) before the gateway holds anything, so a shorter run shows little.
  noCapDurationS: 20,
  resumeWaitMs: 10_000,
  warmupS: 10,
};

const NO_CAP_BYTES = 1_073_741_824;
const CLOSE_LINE = 'closing a slow consumer';

function log(line: string): void {
  process.stdout.write(`[slow-consumers] ${line}\n`);
}

/** The gateway's log lines containing `text` (pino JSON on stdout): their `time` (epoch ms), in order. */
function watchLines(stream: Readable | null, text: string): { times: number[] } {
  const state = { times: [] as number[] };
  let carry = '';
  stream?.on('data', (chunk: Buffer) => {
    const lines = (carry + chunk.toString()).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes(text)) continue;
      const time = Number(/"time":(\d+)/.exec(line)?.[1] ?? Date.now());
      state.times.push(time);
    }
  });
  return state;
}

interface ResumeReport {
  stalled: number;
  disconnectedBeforeResume: number;
  disconnected: number;
  stillConnected: number;
  reasons: Record<string, number>;
  receivedPerSocket: number[];
  disconnectAfterResumeMs: Array<number | null>;
  frameBytes: number;
}

interface MeasuredRun {
  kind: 'with-stalled' | 'without-stalled' | 'no-cap';
  maxClientBufferBytes: number;
  stalledClients: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssGrowthMiB: number;
  rssAfterMiB: number;
  /** RSS slope over the second half of the send window (MiB/s): still growing, or bounded? */
  rssLateSlopeMiBPerS: number;
  rssSeriesMiB: Array<[number, number]>;
  /** Gateway log lines 'closing a slow consumer' during the run and the stalled clients' resume. */
  gatewayClosedSlowConsumers: number;
  /** When the gateway closed them, seconds from the start of the first second of sends. */
  closedAtS?: number[];
  /** Healthy clients per second of send time: [s, worst latency ms, deliveries over 100 ms]. */
  healthyBySecond?: Array<[number, number, number]>;
  /** Deliveries to healthy clients over 100 ms, and the second with the worst latency. */
  slowDeliveries?: number;
  worstSecond?: { s: number; maxMs: number };
  stalled?: ResumeReport;
  healthy: {
    p50: number;
    p95: number;
    p99: number;
    max: number;
    lost: number;
    delivered: number;
    expectedDeliveries: number;
    deliveredPerSec: number;
    achievedSendRate: number;
    failedSends: number;
  };
  cpuPct: Record<string, number>;
  foreignCpuPct: number;
  quietWaitS: number;
  run: RunResult;
}

class SlowStack {
  readonly stack: BenchStack;
  private stalledProc: Proc | undefined;
  private closeLines: { times: number[] } = { times: [] };
  private tokenBatch = 0;

  constructor(
    private readonly opts: SlowConsumerOptions,
    readonly maxClientBufferBytes: number | undefined,
  ) {
    this.stack = new BenchStack({
      redisUrl: opts.redisUrl,
      clients: opts.healthyClients,
      clientProcesses: opts.clientProcesses,
      noteBytes: opts.noteBytes,
      timeline: true,
      env:
        maxClientBufferBytes !== undefined
          ? { MAX_CLIENT_BUFFER_BYTES: String(maxClientBufferBytes) }
          : {},
    });
  }

  get gatewayPid(): number {
    return this.gateway.pid;
  }

  private get gateway(): Proc {
    const g = this.stack.procs.find((p) => p.name === 'gateway');
    if (!g) throw new Error('no gateway process');
    return g;
  }

  async start(): Promise<void> {
    await this.stack.start();
    this.closeLines = watchLines(this.gateway.child.stdout, CLOSE_LINE);
    // Not one of the stack's processes: killed by close() (and by the exit hook, like every Proc).
    this.stalledProc = forkHelper('stalled', path.join(__dirname, 'lib/stalled-clients.js'), [
      `http://127.0.0.1:${this.stack.port}`,
    ]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`stalled helper not ready: ${this.stalledProc?.tail}`)),
        30_000,
      );
      this.stalledProc!.onMessage((m) => {
        if ((m as { event?: string }).event === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  async measure(
    kind: MeasuredRun['kind'],
    durationS: number,
    stalled: number,
  ): Promise<MeasuredRun> {
    const pid = this.gatewayPid;
    if (stalled > 0) {
      // Fresh users for every batch of stalled sockets (the previous ones were closed).
      const tokens = await mintBenchTokens(
        this.stack.config,
        `bench-stalled${this.tokenBatch++}`,
        stalled,
      );
      await this.stalledProc!.call('connect', { tokens, orderId: BENCH_ORDER }, 60_000);
    }
    const closedBefore = this.closeLines.times.length;
    const before = await steadyRss(pid);
    const sampler = new RssSampler(pid).start();
    const run = await this.stack
      .run('queued', this.opts.rate, durationS)
      .finally(() => sampler.stop());
    const rss = sampler.stop();
    let report: ResumeReport | undefined;
    if (stalled > 0) {
      report = await this.stalledProc!.call<ResumeReport>(
        'resume',
        { waitMs: this.maxClientBufferBytes === NO_CAP_BYTES ? 2000 : this.opts.resumeWaitMs },
        60_000,
      );
      await this.stalledProc!.call('close');
      // The gateway's log line is written when it closes the socket; give the pipe a moment.
      await sleep(200);
    }
    const after = await steadyRss(pid, 3);
    const l = run.latency;
    return {
      kind,
      maxClientBufferBytes: this.maxClientBufferBytes ?? this.stack.config.MAX_CLIENT_BUFFER_BYTES,
      stalledClients: stalled,
      rssBeforeMiB: toMiB(before),
      rssPeakMiB: toMiB(rss.peakBytes),
      rssGrowthMiB: toMiB(rss.peakBytes - before),
      rssAfterMiB: toMiB(after),
      rssLateSlopeMiBPerS: slope(
        rss.seriesMiB.filter(([t]) => t >= durationS / 2 && t <= durationS),
      ),
      rssSeriesMiB: rss.seriesMiB,
      gatewayClosedSlowConsumers: this.closeLines.times.length - closedBefore,
      ...timing(run, this.closeLines.times.slice(closedBefore)),
      ...(report ? { stalled: report } : {}),
      healthy: {
        p50: l.p50,
        p95: l.p95,
        p99: l.p99,
        max: l.max,
        lost: run.lost,
        delivered: run.delivered,
        expectedDeliveries: run.expectedDeliveries,
        deliveredPerSec: run.deliveredPerSec,
        achievedSendRate: run.achievedRate,
        failedSends: run.failedSends,
      },
      cpuPct: run.cpuPct,
      foreignCpuPct: run.foreignCpuPct,
      quietWaitS: run.quietWaitS,
      run,
    };
  }

  async close(): Promise<void> {
    await this.stalledProc?.kill().catch(() => undefined);
    await this.stack.close();
  }
}

/** The run's per-second latencies and the close times on one time axis (seconds from the first second of sends). */
function timing(run: RunResult, closeTimes: number[]) {
  const t = run.timeline ?? [];
  if (t.length === 0) return {};
  const t0 = t[0]![0];
  const healthyBySecond = t.map(([second, max, over]): [number, number, number] => [
    second - t0,
    max,
    over,
  ]);
  const worst = healthyBySecond.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    ...(closeTimes.length ? { closedAtS: closeTimes.map((ms) => round(ms / 1000 - t0, 2)) } : {}),
    healthyBySecond,
    slowDeliveries: healthyBySecond.reduce((a, [, , over]) => a + over, 0),
    worstSecond: { s: worst[0], maxMs: worst[1] },
  };
}

/** Least-squares slope of [seconds, MiB] points, MiB/s; NaN with fewer than 3 points. */
function slope(points: Array<[number, number]>): number {
  if (points.length < 3) return NaN;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx > 0 ? round(sxy / sxx, 2) : NaN;
}

function describe(r: MeasuredRun): string {
  const s = r.stalled;
  return (
    `${r.kind.padEnd(15)} rss ${r.rssBeforeMiB} -> peak ${r.rssPeakMiB} MiB (+${r.rssGrowthMiB}, late slope ${r.rssLateSlopeMiBPerS} MiB/s)  healthy p50 ${r.healthy.p50} p99 ${r.healthy.p99} max ${r.healthy.max} ms lost ${r.healthy.lost}` +
    (s
      ? `  stalled: gateway closed ${r.gatewayClosedSlowConsumers}/${s.stalled}${r.closedAtS?.length ? ` at ${r.closedAtS[0]}-${r.closedAtS.at(-1)} s` : ''}, clients saw ${s.disconnected} disconnects ${JSON.stringify(s.reasons)}, frame ${s.frameBytes} B`
      : '') +
    `  deliveries > 100 ms: ${r.slowDeliveries ?? '?'}, worst second ${r.worstSecond ? `${r.worstSecond.s} (${r.worstSecond.maxMs} ms)` : '?'}` +
    `  foreign cpu ${r.foreignCpuPct}%  cpu ${JSON.stringify(r.cpuPct)}`
  );
}

export async function runSlowConsumers(
  opts: SlowConsumerOptions,
  outFile: string,
): Promise<unknown> {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const runs: MeasuredRun[] = [];
  let frameBytes = 0;
  let capBytes: number;
  let setupFacts: Record<string, unknown>;

  const capped = new SlowStack(opts, undefined);
  try {
    await capped.start();
    capBytes = capped.stack.config.MAX_CLIENT_BUFFER_BYTES;
    setupFacts = {
      ...(await capped.stack.redisFacts()),
      clockOffsetsMs: await capped.stack.clockOffsets(),
    };
    log(
      `stack up: gateway :${capped.stack.port} (pid ${capped.gatewayPid}), MAX_CLIENT_BUFFER_BYTES ${capBytes}, ${opts.healthyClients} healthy clients in ${opts.clientProcesses} processes`,
    );
    // Warm-up (not recorded): JIT, connections, BullMQ scripts loaded.
    const warm = await capped.stack.run('queued', opts.rate, opts.warmupS);
    log(`warm-up ${brief(warm)}`);
    await capped.stack.measureIdle();
    for (let i = 0; i < opts.repeats; i++) {
      for (const stalled of [opts.stalledClients, 0]) {
        const r = await capped.measure(
          stalled > 0 ? 'with-stalled' : 'without-stalled',
          opts.durationS,
          stalled,
        );
        log(`${i + 1}/${opts.repeats} ${describe(r)}`);
        if (r.stalled?.frameBytes) frameBytes = r.stalled.frameBytes;
        runs.push(r);
      }
    }
  } finally {
    await capped.close();
  }

  if (opts.noCapDurationS > 0) {
    const uncapped = new SlowStack(opts, NO_CAP_BYTES);
    try {
      await uncapped.start();
      log(
        `no-cap stack up: gateway :${uncapped.stack.port} (pid ${uncapped.gatewayPid}), MAX_CLIENT_BUFFER_BYTES ${NO_CAP_BYTES}`,
      );
      const warm = await uncapped.stack.run('queued', opts.rate, opts.warmupS);
      log(`warm-up ${brief(warm)}`);
      await uncapped.stack.measureIdle();
      const r = await uncapped.measure('no-cap', opts.noCapDurationS, opts.stalledClients);
      log(`no cap ${describe(r)}`);
      if (r.stalled?.frameBytes) frameBytes = r.stalled.frameBytes;
      runs.push(r);
    } finally {
      await uncapped.close();
    }
  }

  const withStalled = runs.filter((r) => r.kind === 'with-stalled');
  const without = runs.filter((r) => r.kind === 'without-stalled');
  const noCap = runs.find((r) => r.kind === 'no-cap');
  const med = (rs: MeasuredRun[], pick: (r: MeasuredRun) => number) => round(median(rs.map(pick)));
  const p99With = med(withStalled, (r) => r.healthy.p99);
  const p99Without = med(without, (r) => r.healthy.p99);
  const growthWith = med(withStalled, (r) => r.rssGrowthMiB);
  const allClosed = withStalled.every(
    (r) =>
      r.gatewayClosedSlowConsumers >= r.stalledClients &&
      (r.stalled?.disconnected ?? 0) >= r.stalledClients,
  );
  const p99Ratio = ratio(p99With, p99Without);
  const noteNote = `order_status_changed { orderId: '${BENCH_ORDER}', status: 'shipped', note: ${opts.noteBytes} chars } with its meta`;
  const summary = {
    messageBytes: frameBytes || null,
    withStalled: {
      runs: withStalled.length,
      rssGrowthMiB: growthWith,
      rssGrowthMiBPerRun: withStalled.map((r) => r.rssGrowthMiB),
      rssLateSlopeMiBPerS: withStalled.map((r) => r.rssLateSlopeMiBPerS),
      rssPeakMiB: med(withStalled, (r) => r.rssPeakMiB),
      gatewayClosed: withStalled.map((r) => r.gatewayClosedSlowConsumers),
      clientsSawDisconnect: withStalled.map((r) => r.stalled?.disconnected ?? 0),
      healthyP50: med(withStalled, (r) => r.healthy.p50),
      healthyP99: p99With,
      healthyP99PerRun: withStalled.map((r) => r.healthy.p99),
      healthyLost: withStalled.reduce((a, r) => a + r.healthy.lost, 0),
      slowDeliveriesPerRun: withStalled.map((r) => r.slowDeliveries ?? null),
      closedAtS: withStalled.map((r) => r.closedAtS ?? []),
      worstSecond: withStalled.map((r) => r.worstSecond ?? null),
      foreignCpuPct: withStalled.map((r) => r.foreignCpuPct),
    },
    withoutStalled: {
      runs: without.length,
      rssGrowthMiB: med(without, (r) => r.rssGrowthMiB),
      rssGrowthMiBPerRun: without.map((r) => r.rssGrowthMiB),
      rssPeakMiB: med(without, (r) => r.rssPeakMiB),
      healthyP50: med(without, (r) => r.healthy.p50),
      healthyP99: p99Without,
      healthyP99PerRun: without.map((r) => r.healthy.p99),
      healthyLost: without.reduce((a, r) => a + r.healthy.lost, 0),
      slowDeliveriesPerRun: without.map((r) => r.slowDeliveries ?? null),
      worstSecond: without.map((r) => r.worstSecond ?? null),
      foreignCpuPct: without.map((r) => r.foreignCpuPct),
    },
    healthyP99Ratio: p99Ratio,
    ...(noCap
      ? {
          noCap: {
            durationS: opts.noCapDurationS,
            maxClientBufferBytes: NO_CAP_BYTES,
            rssGrowthMiB: noCap.rssGrowthMiB,
            rssPeakMiB: noCap.rssPeakMiB,
            growthMiBPerS: round(noCap.rssGrowthMiB / opts.noCapDurationS, 1),
            /** RSS slope over the second half of the send window (after the kernel's socket buffers filled). */
            lateSlopeMiBPerS: noCap.rssLateSlopeMiBPerS,
            gatewayClosed: noCap.gatewayClosedSlowConsumers,
            healthyP99: noCap.healthy.p99,
          },
        }
      : {}),
    targets: {
      rssGrowthUnder64MiB: { value: growthWith, met: growthWith < 64 },
      allStalledDisconnected: { met: allClosed },
      healthyP99Within1_2x: { value: p99Ratio, met: p99With <= 1.2 * p99Without },
    },
  };
  const result = {
    scenario: 'slow-consumers',
    setup: {
      ...runFacts(loadBefore),
      ...setupFacts,
      healthyClients: opts.healthyClients,
      clientProcesses: opts.clientProcesses,
      stalledClients: opts.stalledClients,
      stalledHow:
        'socket.io-client websocket, joined, then its TCP socket paused (transport.ws._socket.pause()) in a separate process; resumed after the run to see the disconnect',
      rate: opts.rate,
      runDurationS: opts.durationS,
      repeats: opts.repeats,
      order: 'with, without, with, without (same stack); then the no-cap run on a fresh stack',
      warmupS: opts.warmupS,
      path: 'queued (EventManager.emitToOrder in the producer process -> delivery job -> worker -> adapter)',
      event: noteNote,
      messageBytes: frameBytes
        ? `${frameBytes} B websocket frame payload per event (engine.io '4' + socket.io packet with data and meta), measured at a stalled client`
        : 'not measured',
      maxClientBufferBytes: capBytes,
      rss: 'gateway VmRSS from /proc/<pid>/status: before = median of 5 samples 200 ms apart just before the run (stalled clients already connected and paused); peak = max of samples every 200 ms from the start of the run until its measurement ended (send, delivery, settle); growth = peak - before',
      disconnects: `gatewayClosed: gateway log lines '${CLOSE_LINE}'; clientsSawDisconnect: stalled clients that, resumed after the run, saw their connection end within ${opts.resumeWaitMs} ms`,
      durationS: round((Date.now() - started) / 1000, 1),
    },
    summary,
    runs: runs.map(({ run, ...r }) => ({
      ...r,
      latency: run.latency,
      cost: {
        redisCommandsPerEvent: run.cost.redisCommandsPerEvent,
        eventsPerJob: run.cost.eventsPerJob,
      },
    })),
  };
  writeResult(outFile, result);
  log(
    `summary: message ${frameBytes} B; with stalled: RSS +${growthWith} MiB (target < 64), closed ${JSON.stringify(summary.withStalled.gatewayClosed)}/${opts.stalledClients}, healthy p99 ${p99With} ms; without: p99 ${p99Without} ms, ratio ${p99Ratio} (target <= 1.2)` +
      (noCap
        ? `; no cap: RSS +${noCap.rssGrowthMiB} MiB in ${opts.noCapDurationS} s, closed ${noCap.gatewayClosedSlowConsumers}`
        : ''),
  );
  log(`wrote ${outFile}`);
  return result;
}
