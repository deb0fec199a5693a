/**
 * Replay under attack (issue "Security as an attacker and a careless integrator find it"): one
 * gateway and one worker in production mode on a private redis-server. An open chat is filled to
 * its history's cap (`writers` users x `perWriter` messages of `contentBytes` characters, through
 * `POST /api/chats/:id/messages`), then `sockets` signed-in sockets (a forked client process)
 * re-join it with `since` = its first offset in a loop for `durationS`, each re-join making the
 * gateway read and send the whole history. Meanwhile the orchestrator polls the gateway's
 * `/healthz` back to back: the figure is how long a health check waits while replays run
 * (target: p99 under 50 ms). Also: re-joins served and refused `rate_limited`, bytes the clients
 * received, the gateway's CPU.
 */
import os from 'node:os';
import path from 'node:path';
import { openSocket } from './lib/open-socket';
import { mintBenchTokens } from './lib/auth';
import { BenchStack } from './lib/harness';
import { cpuSeconds, forkHelper } from './lib/procs';
import { runFacts, writeResult } from './lib/report';
import { Histogram, round } from './lib/stats';

export interface ReplayOptions {
  redisUrl: string;
  writers: number;
  perWriter: number;
  contentBytes: number;
  sockets: number;
  durationS: number;
}

export const REPLAY_DEFAULTS: Omit<ReplayOptions, 'redisUrl'> = {
  writers: 10,
  perWriter: 100,
  contentBytes: 4000,
  sockets: 40,
  durationS: 10,
};

const CHAT = 'replay-probe';

export async function runReplay(options: ReplayOptions, outFile: string): Promise<unknown> {
  const loadBefore = os.loadavg();
  const stack = new BenchStack({
    redisUrl: options.redisUrl,
    clients: 0,
    clientProcesses: 1,
    env: { NODE_ENV: 'production' },
  });
  await stack.start();
  try {
    const base = `http://127.0.0.1:${stack.port}`;
    const [watcherToken] = await mintBenchTokens(stack.config, 'replay-watcher', 1);
    const watcher = await openSocket(`${base}/chat`, watcherToken as string, 'replay watcher');
    await watcher.timeout(10_000).emitWithAck('join_chat', { chatId: CHAT });
    const total = options.writers * options.perWriter;
    let first: string | undefined;
    let seen = 0;
    const filled = new Promise<void>((resolve) => {
      watcher.on('new_message', (_data: unknown, meta: { offset?: string }) => {
        first ??= meta.offset;
        if (++seen === total) resolve();
      });
    });
    const content = 'x'.repeat(options.contentBytes);
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${stack.config.PUBLISH_TOKEN}`,
    };
    for (let w = 0; w < options.writers; w++) {
      await Promise.all(
        Array.from({ length: options.perWriter }, () =>
          fetch(`${base}/api/chats/${CHAT}/messages`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ userId: `writer-${w}`, content }),
          }).then((r) => r.arrayBuffer()),
        ),
      );
    }
    await filled;
    watcher.close();
    if (first === undefined) throw new Error('no offset seen');

    const tokens = await mintBenchTokens(stack.config, 'replay', options.sockets);
    const clients = forkHelper(
      'replay-clients',
      path.join(__dirname, 'replay-clients.js'),
      [base, CHAT, first],
      { REPLAY_TOKENS: JSON.stringify(tokens) },
    );
    try {
      await clients.call('connect', {}, 60_000);
      const gatewayPid = stack.pids.gateway as number;
      const cpu0 = cpuSeconds(gatewayPid);
      const health = new Histogram();
      const polling = { on: true };
      const poll = (async () => {
        while (polling.on) {
          const t0 = performance.now();
          await fetch(`${base}/healthz`).then((r) => r.arrayBuffer());
          health.record(performance.now() - t0);
        }
      })();
      const t0 = performance.now();
      const got = await clients.call<{
        rejoins: number;
        limited: number;
        recovered: number;
        events: number;
        contentBytes: number;
      }>('run', { durationMs: options.durationS * 1000 }, options.durationS * 1000 + 120_000);
      const elapsedS = (performance.now() - t0) / 1000;
      polling.on = false;
      await poll;
      const result = {
        scenario: 'replay',
        ...runFacts(loadBefore),
        options: { ...options, redisUrl: undefined },
        history: { events: total, contentMiB: round((total * options.contentBytes) / 2 ** 20, 2) },
        elapsedS: round(elapsedS, 2),
        healthz: health.summary(),
        rejoins: got.rejoins,
        refusedRateLimited: got.limited,
        eventsReplayed: got.recovered,
        receivedMiB: round(got.contentBytes / 2 ** 20, 1),
        gatewayCpuS: round(cpuSeconds(gatewayPid) - cpu0, 2),
      };
      writeResult(outFile, result);
      process.stdout.write(
        `replay: ${JSON.stringify({ healthz: result.healthz, rejoins: result.rejoins, limited: result.refusedRateLimited, receivedMiB: result.receivedMiB, elapsedS: result.elapsedS })}\n`,
      );
      return result;
    } finally {
      await clients.kill();
    }
  } finally {
    await stack.close();
  }
}
