/**
 * Soak (`BENCH_ONLY=soak npm run bench`; not in the default sequence, it takes ~35 minutes): the
 * production topology under a steady load for `durationS`, with one fault every `faultEveryS`.
 *
 * Stack, as deployed: the shipped deploy/nginx.conf in front of two `npm start` launchers (built,
 * NODE_ENV=production, secrets of their own, ADMIN_TOKEN, ADMIN_UI=on, TRUST_PROXY=loopback):
 * A runs a gateway and 2 workers on Redis directly, B a gateway through a TCP proxy that can drop
 * the link. Redis has appendonly. `clients` client-library clients (forked processes) through
 * nginx in `rooms` order rooms; one publisher POSTs one event per request through nginx.
 *
 * First a calibration: steps of rising rate, each `stepS`; a step is sustained when every accepted
 * event reached every client of its room within `settleMs` with p99 under `sustainedP99Ms` (no
 * queue building up) and nothing refused.
 * The soak runs at half the highest sustained rate. Faults, in turn: Redis restart (2 s down),
 * Redis frozen 5 s (SIGSTOP), the proxied link cut 3 s, Redis back empty, a worker SIGKILLed, a
 * gateway SIGKILLed (the launcher restarts both).
 *
 * Reported per minute: p50/p99 by send time, sent/accepted/refused, RSS and event loop lag p99 of
 * every process. At the end: lost (every 202 must reach every client of its room; around the data
 * loss the events until the clients re-joined are excused and counted apart), duplicates after
 * the library's de-duplication, RSS growth of every process from minutes 5-7 to the last 3 minutes
 * (processes the soak killed: from 5 minutes after their restart, when the run lasted that long).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintToken } from '../src/auth/tokens';
import { ADMIN_ROLE } from '../src/auth/user';
import { loadConfig } from '../src/config';
import { TcpProxy } from '../test/client/tcp-proxy';
import { freePort } from './lib/free-port';
import { sleep } from './lib/harness';
import { forkHelper, type Proc } from './lib/procs';
import { runFacts, writeResult } from './lib/report';
import { rssBytes, toMiB } from './lib/rss';
import {
  processGauges,
  readyStatus,
  SoakLauncher,
  SoakRedis,
  startSoakNginx,
} from './lib/soak-stack';
import { clock, Histogram, median, round } from './lib/stats';
import { chartSvg } from './lib/svg-chart';
import { SOAK_ORDER, soakNote, type SoakCheck, type SoakReport } from './soak-clients';

export interface SoakOptions {
  durationS: number;
  faultEveryS: number;
  clients: number;
  rooms: number;
  clientProcesses: number;
  /** Calibration steps (events/s) and how long each runs. */
  steps: number[];
  stepS: number;
  settleMs: number;
  /** A step whose p99 is above this is not sustained: deliveries were queueing. */
  sustainedP99Ms: number;
  /** Fixed soak rate instead of half the calibrated one. */
  rate?: number;
}

export const SOAK_DEFAULTS: SoakOptions = {
  durationS: 1800,
  faultEveryS: 300,
  clients: 1000,
  rooms: 10,
  clientProcesses: 2,
  steps: [50, 100, 150, 200, 300, 400, 600],
  stepS: 20,
  settleMs: 10_000,
  sustainedP99Ms: 250,
};

const FAULTS = [
  'redis restart (2 s)',
  'redis frozen 5 s',
  'link cut 3 s (gateway B to redis)',
  'redis back empty',
  'worker SIGKILL',
  'gateway SIGKILL',
] as const;
const SOAK_PHASE = 100;
const REJOIN_WAIT_MS = 60_000;

interface Accepted {
  seq: number;
  at: number;
}

interface MinuteRow {
  minute: number;
  sent: number;
  accepted: number;
  refused: number;
  p50Ms?: number;
  p99Ms?: number;
  deliveries?: number;
  rssMiB: Record<string, number>;
  lagP99Ms: Record<string, number>;
  /** V8 heap in use at the minute's end (gateways and workers): tells a leak from memory the allocator keeps. */
  heapUsedMiB: Record<string, number>;
  /**
   * V8 heap reserved (new + old space) and the RSS outside it, read together at the minute's end.
   * V8 grows and shrinks its heap by tens of MiB on its own (a compacting GC hands pages back, then
   * the spaces grow again under load), and RSS follows; what a leak would grow is heap used across
   * GCs, or the memory outside the heap (buffers, native).
   */
  heapTotalMiB: Record<string, number>;
  outsideHeapMiB: Record<string, number>;
  /** The machine's 1-minute load average at the minute's end (2 cores: above 2 is a queue). */
  load1: number;
}

interface FaultRow {
  fault: string;
  atMinute: number;
  readyDownMs?: number;
  readyBackMs?: number;
  note?: string;
}

/** One publisher: `POST /api/events` through nginx, one event per request, paced per 10 ms tick. */
class Publisher {
  accepted: Accepted[][];
  private seq: number[];
  sent = 0;
  refused = 0;
  acceptedCount = 0;
  private inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly rooms: number,
    private readonly phase: number,
    private readonly capacity: number,
  ) {
    this.accepted = Array.from({ length: rooms }, () => []);
    this.seq = Array.from({ length: rooms }, () => 0);
  }

  start(rate: number, startedAt: number): void {
    let due = 0;
    const t0 = clock();
    this.timer = setInterval(() => {
      due = Math.floor(((clock() - t0) / 1000) * rate);
      // At most 1,000 requests waiting: past that the publisher would only measure itself.
      while (this.sent < due && this.inFlight.size < 1000) this.publishOne(startedAt);
    }, 10);
  }

  private publishOne(startedAt: number): void {
    const room = this.sent % this.rooms;
    const seq = this.seq[room]!++;
    this.sent++;
    if (seq >= this.capacity) return;
    const sentAt = clock();
    const p = fetch(this.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        event: 'order_status_changed',
        data: {
          orderId: SOAK_ORDER(room),
          status: 'preparing',
          note: soakNote(this.phase, room, seq, sentAt),
        },
      }),
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status === 202) {
          this.accepted[room]!.push({ seq, at: sentAt - startedAt });
          this.acceptedCount++;
        } else this.refused++;
      })
      .catch(() => {
        this.refused++;
      });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
  }
}

export async function runSoak(options: SoakOptions, outFile: string): Promise<unknown> {
  const loadBefore = os.loadavg();
  const redis = await SoakRedis.start();
  const proxy = await TcpProxy.start(redis.port);
  const [portA, portB, metricsA, metricsB] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    PUBLISH_TOKEN: randomBytes(24).toString('base64url'),
    ADMIN_TOKEN: randomBytes(24).toString('base64url'),
  };
  const env = {
    NODE_ENV: 'production',
    ...secrets,
    ADMIN_UI: 'on',
    TRUST_PROXY: 'loopback',
    LOG_LEVEL: 'warn',
    KEY_PREFIX: 'soak',
    // A SIGKILLed worker's jobs are taken over after this (BullMQ's lock), not after 30 s.
    WORKER_LOCK_MS: '5000',
    PRESENCE_HEARTBEAT_MS: '2000',
    PRESENCE_TTL_MS: '6000',
  };
  const launchers = [
    new SoakLauncher('launcher-a', {
      ...env,
      REDIS_URL: redis.url,
      PORT: String(portA),
      METRICS_PORT: String(metricsA),
      GATEWAYS: '1',
      WORKERS: '2',
    }),
    new SoakLauncher('launcher-b', {
      ...env,
      REDIS_URL: proxy.url.replace('http:', 'redis:'),
      PORT: String(portB),
      METRICS_PORT: String(metricsB),
      GATEWAYS: '1',
      WORKERS: '0',
    }),
  ];
  const gatewayPorts = [portA, portB];
  const workerPorts = [metricsA, metricsA + 1];
  let nginx: Awaited<ReturnType<typeof startSoakNginx>> | undefined;
  const clientProcs: Proc[] = [];
  try {
    await launchers[0]!.ready([portA, ...workerPorts]);
    await launchers[1]!.ready([portB]);
    nginx = await startSoakNginx(gatewayPorts);
    const lb = `http://127.0.0.1:${nginx.port}`;
    const config = loadConfig({ ...env, REDIS_URL: redis.url });

    // Clients, paced so 1,000 handshakes do not arrive in one burst.
    const perProc = Math.ceil(options.clients / options.clientProcesses);
    for (let p = 0; p < options.clientProcesses; p++) {
      const first = p * perProc;
      const count = Math.min(perProc, options.clients - first);
      const tokens = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          mintToken(config, {
            userId: `soak-${first + i}`,
            roles: [ADMIN_ROLE],
            ttlSeconds: 24 * 3600,
          }),
        ),
      );
      const proc = forkHelper(
        `clients-${p}`,
        path.join(__dirname, 'soak-clients.js'),
        [lb, String(first), String(count), String(options.rooms)],
        {
          SOAK_TOKENS: JSON.stringify(tokens),
        },
      );
      clientProcs.push(proc);
      await proc.call('connect', {}, 300_000);
    }
    const startPhase = (phase: number, startedAt: number, capacity: number) =>
      Promise.all(clientProcs.map((c) => c.call('start', { phase, startedAt, capacity })));
    const check = async (accepted: number[][]) => {
      const parts = await Promise.all(
        clientProcs.map((c) => c.call<SoakCheck>('check', { accepted }, 120_000)),
      );
      return parts.reduce((a, b) => ({
        missing: a.missing + b.missing,
        duplicated: a.duplicated + b.duplicated,
        clientsMissing: a.clientsMissing + b.clientsMissing,
      }));
    };
    const reports = () =>
      Promise.all(clientProcs.map((c) => c.call<SoakReport>('report', {}, 120_000)));
    const mergeMinutes = (parts: SoakReport[]) => {
      const byMinute = new Map<number, Histogram>();
      for (const part of parts)
        for (const [m, sparse, max, sum] of part.minutes) {
          let h = byMinute.get(m);
          if (!h) byMinute.set(m, (h = new Histogram()));
          h.merge(sparse, max, sum);
        }
      return byMinute;
    };
    const acceptedSeqs = (pub: Publisher, keep: (a: Accepted) => boolean = () => true) =>
      pub.accepted.map((list) => list.filter(keep).map((a) => a.seq));
    /** Waits until every client has every accepted event (or `maxMs` passed); the last check. */
    const settle = async (pub: Publisher, maxMs: number, keep?: (a: Accepted) => boolean) => {
      const deadline = Date.now() + maxMs;
      let result = await check(acceptedSeqs(pub, keep));
      while (result.missing > 0 && Date.now() < deadline) {
        await sleep(500);
        result = await check(acceptedSeqs(pub, keep));
      }
      return result;
    };

    // Calibration.
    const calibration: Array<{
      rate: number;
      accepted: number;
      refused: number;
      missing: number;
      p50Ms: number;
      p99Ms: number;
      sustained: boolean;
    }> = [];
    let highest = 0;
    if (options.rate === undefined) {
      for (const [i, rate] of options.steps.entries()) {
        const capacity = Math.ceil((rate * options.stepS) / options.rooms) + 10;
        const startedAt = clock();
        await startPhase(i + 1, startedAt, capacity);
        const pub = new Publisher(
          `${lb}/api/events`,
          secrets.PUBLISH_TOKEN,
          options.rooms,
          i + 1,
          capacity,
        );
        pub.start(rate, startedAt);
        await sleep(options.stepS * 1000);
        await pub.stop();
        const result = await settle(pub, options.settleMs);
        const all = new Histogram();
        for (const h of mergeMinutes(await reports()).values())
          all.merge(h.toSparse(), h.max, h.sum);
        const p99 = all.quantile(0.99);
        const sustained =
          result.missing === 0 &&
          pub.refused === 0 &&
          p99 < options.sustainedP99Ms &&
          pub.sent >= rate * options.stepS * 0.95;
        calibration.push({
          rate,
          accepted: pub.acceptedCount,
          refused: pub.refused,
          missing: result.missing,
          p50Ms: round(all.quantile(0.5)),
          p99Ms: round(p99),
          sustained,
        });
        process.stdout.write(`soak calibration: ${JSON.stringify(calibration.at(-1))}\n`);
        if (!sustained) break;
        highest = rate;
      }
    }
    const rate = options.rate ?? Math.max(10, Math.floor(highest / 2));
    process.stdout.write(
      `soak: ${rate} events/s for ${options.durationS} s, ${options.clients} clients\n`,
    );

    // The soak.
    const capacity = Math.ceil((rate * options.durationS) / options.rooms) + 100;
    const startedAt = clock();
    await startPhase(SOAK_PHASE, startedAt, capacity);
    const pub = new Publisher(
      `${lb}/api/events`,
      secrets.PUBLISH_TOKEN,
      options.rooms,
      SOAK_PHASE,
      capacity,
    );
    const rows: MinuteRow[] = [];
    const faults: FaultRow[] = [];
    /** Slot -> pid it had when first seen, and when a slot got a new pid (restarted). */
    const firstPid = new Map<string, number>();
    const restartedAtMinute = new Map<string, number>();
    const rssSamples = new Map<string, number[]>();
    const slots = () => {
      const out = new Map<string, number>([
        ['redis', redis.pid],
        ['nginx', nginx!.proc.pid],
        ...clientProcs.map((c) => [c.name, c.pid] as [string, number]),
      ]);
      for (const l of launchers) for (const [slot, pid] of l.children()) out.set(slot, pid);
      return out;
    };
    const sampleRss = () => {
      const minute = (clock() - startedAt) / 60_000;
      for (const [slot, pid] of slots()) {
        const known = firstPid.get(slot);
        if (known === undefined) firstPid.set(slot, pid);
        else if (known !== pid && !restartedAtMinute.has(slot)) restartedAtMinute.set(slot, minute);
        const list = rssSamples.get(slot) ?? [];
        list.push(rssBytes(pid));
        rssSamples.set(slot, list);
      }
    };
    let lastCounts = { sent: 0, accepted: 0, refused: 0 };
    let minuteIndex = 0;
    const rssByMinute = new Map<string, number[]>(); // slot -> per-minute median RSS (bytes)
    const outsideByMinute = new Map<string, number[]>(); // slot -> RSS minus V8 heap total at the minute's end (bytes)
    const closeMinute = async () => {
      const lag: Record<string, number> = {};
      const heap: Record<string, number> = {};
      const heapTotal: Record<string, number> = {};
      const outside: Record<string, number> = {};
      const pids = slots();
      for (const [slot, port] of [
        ...gatewayPorts.map((p) => [`gateway:${p}`, p] as const),
        ...workerPorts.map((p) => [`worker:${p}`, p] as const),
      ]) {
        const gauges = await processGauges(port);
        const pid = pids.get(slot);
        lag[slot] = round(gauges.lagP99Ms);
        heap[slot] = round(gauges.heapUsedMiB, 1);
        heapTotal[slot] = round(gauges.heapTotalMiB, 1);
        if (pid !== undefined) {
          const value = toMiB(rssBytes(pid)) - gauges.heapTotalMiB;
          outside[slot] = round(value, 1);
          const list = outsideByMinute.get(slot) ?? [];
          list[minuteIndex] = value * 2 ** 20;
          outsideByMinute.set(slot, list);
        }
      }
      const rss: Record<string, number> = {};
      for (const [slot, samples] of rssSamples) {
        const value = median(samples);
        rss[slot] = toMiB(value);
        const list = rssByMinute.get(slot) ?? [];
        list[minuteIndex] = value;
        rssByMinute.set(slot, list);
      }
      rssSamples.clear();
      rows.push({
        minute: minuteIndex,
        sent: pub.sent - lastCounts.sent,
        accepted: pub.acceptedCount - lastCounts.accepted,
        refused: pub.refused - lastCounts.refused,
        rssMiB: rss,
        lagP99Ms: lag,
        heapUsedMiB: heap,
        heapTotalMiB: heapTotal,
        outsideHeapMiB: outside,
        load1: round(os.loadavg()[0] ?? NaN),
      });
      lastCounts = { sent: pub.sent, accepted: pub.acceptedCount, refused: pub.refused };
      process.stdout.write(`soak minute ${minuteIndex}: ${JSON.stringify(rows.at(-1))}\n`);
      minuteIndex++;
    };

    /** Polls every gateway's /readyz while `fault` runs and until all are 200 again. */
    const readiness = async (fault: () => Promise<void>) => {
      const t0 = Date.now();
      let down: number | undefined;
      const ok = new Map<number, boolean>();
      const watch = { on: true };
      const poll = (async () => {
        while (watch.on) {
          for (const port of gatewayPorts) {
            const status = await readyStatus(port);
            ok.set(port, status === 200);
            if (status !== 200 && down === undefined) down = Date.now() - t0;
          }
          await sleep(100);
        }
      })();
      await fault();
      const deadline = Date.now() + 60_000;
      while (
        Date.now() < deadline &&
        !(down !== undefined && gatewayPorts.every((p) => ok.get(p) === true))
      )
        await sleep(100);
      const back = Date.now() - t0;
      watch.on = false;
      await poll;
      return { readyDownMs: down, readyBackMs: down === undefined ? undefined : back };
    };
    let lossWindow: [number, number] | undefined;
    const runFault = async (name: (typeof FAULTS)[number]) => {
      const atMinute = round((clock() - startedAt) / 60_000, 2);
      const row: FaultRow = { fault: name, atMinute };
      if (name === 'redis restart (2 s)')
        Object.assign(row, await readiness(() => redis.restart(2000)));
      else if (name === 'redis frozen 5 s')
        Object.assign(row, await readiness(() => redis.freeze(5000)));
      else if (name === 'link cut 3 s (gateway B to redis)')
        Object.assign(
          row,
          await readiness(async () => {
            proxy.cut();
            await sleep(3000);
            proxy.restore();
          }),
        );
      else if (name === 'redis back empty') {
        const from = clock();
        Object.assign(row, await readiness(() => redis.backEmpty(1000)));
        // Every client is told recovery_incomplete on its re-join (the new history cannot serve its offset).
        const deadline = Date.now() + REJOIN_WAIT_MS;
        let told = { clients: 0, last: 0 };
        while (Date.now() < deadline) {
          const parts = await Promise.all(
            clientProcs.map((c) =>
              c.call<{ clients: number; last: number }>('incomplete', { since: from }),
            ),
          );
          told = {
            clients: parts.reduce((s, p) => s + p.clients, 0),
            last: Math.max(...parts.map((p) => p.last)),
          };
          if (told.clients >= options.clients) break;
          await sleep(500);
        }
        lossWindow = [from - startedAt - 2000, (told.last || clock()) - startedAt];
        row.note = `${told.clients}/${options.clients} clients told recovery_incomplete; the last ${round((lossWindow[1] - (from - startedAt)) / 1000, 1)} s after Redis stopped`;
      } else {
        const kind = name === 'worker SIGKILL' ? 'worker' : 'gateway';
        const slot = kind === 'worker' ? `worker:${workerPorts[1]}` : `gateway:${portA}`;
        const pid = launchers[0]!.children().get(slot);
        if (pid !== undefined) {
          if (kind === 'gateway')
            Object.assign(
              row,
              await readiness(() => Promise.resolve(void process.kill(pid, 'SIGKILL'))),
            );
          else {
            const t0 = Date.now();
            process.kill(pid, 'SIGKILL');
            await sleep(500);
            const deadline = Date.now() + 60_000;
            while (Date.now() < deadline && (await readyStatus(workerPorts[1]!)) !== 200)
              await sleep(100);
            row.readyBackMs = Date.now() - t0;
          }
          row.note = `pid ${pid} killed; ${slot} restarted by the launcher`;
        } else row.note = `no pid for ${slot}`;
      }
      faults.push(row);
      process.stdout.write(`soak fault: ${JSON.stringify(row)}\n`);
    };

    pub.start(rate, startedAt);
    const sampler = setInterval(sampleRss, 10_000);
    sampleRss();
    const end = startedAt + options.durationS * 1000;
    let nextMinute = startedAt + 60_000;
    let faultIndex = 0;
    let nextFault = startedAt + (options.faultEveryS * 1000) / 2;
    const pendingFaults: Array<Promise<void>> = [];
    while (clock() < end) {
      const now = clock();
      if (now >= nextMinute) {
        await closeMinute();
        nextMinute += 60_000;
      }
      if (now >= nextFault && faultIndex < FAULTS.length) {
        pendingFaults.push(runFault(FAULTS[faultIndex]!));
        faultIndex++;
        nextFault += options.faultEveryS * 1000;
      }
      await sleep(250);
    }
    await pub.stop();
    await Promise.all(pendingFaults);
    sampleRss();
    await closeMinute();
    clearInterval(sampler);

    const excused = (a: Accepted) =>
      lossWindow !== undefined && a.at >= lossWindow[0] && a.at <= lossWindow[1];
    const final = await settle(pub, 60_000, (a) => !excused(a));
    const parts = await reports();
    const byMinute = mergeMinutes(parts);
    const all = new Histogram();
    for (const [m, h] of byMinute) {
      all.merge(h.toSparse(), h.max, h.sum);
      const row = rows[m];
      if (row)
        Object.assign(row, {
          p50Ms: round(h.quantile(0.5)),
          p99Ms: round(h.quantile(0.99)),
          deliveries: h.count,
        });
    }
    const excusedCount = pub.accepted.reduce((s, list) => s + list.filter(excused).length, 0);

    // RSS growth of every process's life: the median of its minutes 5-7 against the median of its
    // last 3 minutes (a process the soak killed: its last 3 before the kill; the one that replaced
    // it, from its own minute 5, when the run left it 5 minutes more).
    const rssGrowth: Record<string, GrowthRow[]> = {};
    for (const [slot, perMinute] of rssByMinute)
      rssGrowth[slot] = growthOfLives(perMinute, restartedAtMinute.get(slot));
    const stackSlots = [...rssByMinute.keys()].filter((slot) => !slot.startsWith('clients-'));
    const growthOk = stackSlots.every((slot) =>
      (rssGrowth[slot] ?? []).every((g) => g.growthPct === undefined || g.growthPct < 5),
    );
    // The same windows for the RSS outside the V8 heap (gateways and workers): not the target, the
    // figure that tells a leak from V8 resizing its heap when the RSS one misses.
    const outsideHeapGrowth: Record<string, GrowthRow[]> = {};
    for (const [slot, perMinute] of outsideByMinute)
      outsideHeapGrowth[slot] = growthOfLives(perMinute, restartedAtMinute.get(slot));

    const result = {
      scenario: 'soak',
      ...runFacts(loadBefore),
      options,
      topology:
        'nginx (deploy/nginx.conf) -> launcher A (gateway + 2 workers, Redis direct) and launcher B (gateway via a TCP proxy to Redis); NODE_ENV=production, ADMIN_UI=on, TRUST_PROXY=loopback; Redis appendonly',
      calibration,
      highestSustainedPerSec: options.rate === undefined ? highest : undefined,
      ratePerSec: rate,
      totals: {
        sent: pub.sent,
        accepted: pub.acceptedCount,
        refused: pub.refused,
        lost: final.missing,
        clientsMissing: final.clientsMissing,
        duplicated: final.duplicated,
        excusedAroundDataLoss: excusedCount,
        latency: all.summary(),
        stale: parts.reduce((s, p) => s + p.stale, 0),
      },
      faults,
      rssGrowth,
      rssGrowthUnder5Pct: growthOk,
      outsideHeapGrowth,
      unhandledLines: launchers.flatMap((l) => l.unhandled),
      launcherExitLines: launchers.flatMap((l) => l.exits),
      minutes: rows,
    };
    writeResult(outFile, result);
    writeFileSync(outFile.replace(/\.json$/, '.svg'), soakChart(rows, faults));
    process.stdout.write(
      `soak: ${pub.acceptedCount} accepted, ${pub.refused} refused, ${final.missing} lost, ${final.duplicated} duplicated, ${excusedCount} excused; rss growth ok: ${growthOk}\n`,
    );
    return result;
  } finally {
    for (const c of clientProcs) {
      await c.call('close', {}, 10_000).catch(() => undefined);
      await c.kill();
    }
    await nginx?.close();
    for (const l of launchers) await l.stop();
    await proxy.close();
    await redis.close();
  }
}

interface GrowthRow {
  life: string;
  fromMiB?: number;
  toMiB?: number;
  growthPct?: number;
  note?: string;
}

/** RSS growth per life of one slot (two lives when the soak killed its process and the launcher restarted it). */
function growthOfLives(perMinute: number[], restartedAt: number | undefined): GrowthRow[] {
  const lives: Array<[label: string, from: number, to: number]> =
    restartedAt === undefined
      ? [['whole run', 0, perMinute.length]]
      : [
          [`until the kill at minute ${round(restartedAt, 1)}`, 0, Math.floor(restartedAt)],
          [
            `after its restart at minute ${round(restartedAt, 1)}`,
            Math.ceil(restartedAt),
            perMinute.length,
          ],
        ];
  return lives.map(([life, start, end]) => {
    const from = start + 5;
    if (end - from < 6) return { life, note: 'less than 11 minutes: not measured' };
    const a = median(perMinute.slice(from, from + 3));
    const b = median(perMinute.slice(end - 3, end));
    return { life, fromMiB: toMiB(a), toMiB: toMiB(b), growthPct: round(((b - a) / a) * 100, 1) };
  });
}

function soakChart(rows: MinuteRow[], faults: FaultRow[]): string {
  const marks = faults.map((f): [number, string] => [
    f.atMinute,
    f.fault.split(' ').slice(0, 2).join(' '),
  ]);
  const slots = [...new Set(rows.flatMap((r) => Object.keys(r.rssMiB)))];
  return chartSvg(
    [
      {
        title: 'Soak: delivery latency per minute (send to receive, every client)',
        yLabel: 'ms',
        series: [
          { name: 'p99', points: rows.map((r) => [r.minute, r.p99Ms ?? NaN]) },
          { name: 'p50', points: rows.map((r) => [r.minute, r.p50Ms ?? NaN]) },
        ],
        marks,
      },
      {
        title: 'Soak: resident memory of every process',
        yLabel: 'MiB',
        series: slots.map((slot) => ({
          name: slot,
          points: rows.map((r): [number, number] => [r.minute, r.rssMiB[slot] ?? NaN]),
        })),
        marks,
      },
    ],
    'minute of the soak',
  );
}
