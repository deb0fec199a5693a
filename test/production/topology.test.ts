import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createClient, type SwitchboardClient } from '../../src/client';
import { createKeys } from '../../src/redis/keys';
import { TcpProxy } from '../client/tcp-proxy';
import { alive, launch, type Launched, type Launcher } from '../helpers/launcher';
import { startNginx, type Nginx } from '../helpers/nginx';
import { freePort, TestRedisServer } from '../helpers/redis-server';
import { Stack, testConfig } from '../helpers/stack';
import { every, sleep, until } from '../helpers/wait';

/**
 * The stack as users deploy it, under every fault the issue lists: the shipped nginx in front of 2
 * gateways and 2 workers started by the launcher (`npm start`'s) with NODE_ENV=production, secrets
 * of their own, ADMIN_TOKEN with the Admin UI on, TRUST_PROXY, and Redis with appendonly. One
 * gateway reaches Redis through a TCP proxy that can drop its connections. Clients use the client
 * library through nginx; a publisher POSTs through nginx at a steady rate the whole time.
 */

const ROOMS = ['p1', 'p2', 'p3'];
const CLIENTS_PER_ROOM = 2;
/** One POST every this many ms, spread over the rooms. */
const EVERY_MS = 40;
/** How long a fault's recovery may take before the test calls it broken. */
const RECOVERY_MS = 45_000;

const secret = () => randomBytes(24).toString('base64url');

interface Published {
  id: string;
  at: number;
}

interface Figures {
  fault: string;
  readyDownMs: number | undefined;
  readyBackMs: number | undefined;
  accepted: number;
  refused: number;
  lost: number;
  duplicated: number;
}

describe('production topology: nginx, 2 gateways and 2 workers from the launcher, through every fault', () => {
  let redis: TestRedisServer;
  let proxy: TcpProxy;
  let nginx: Nginx | undefined;
  const launchers: Launcher[] = [];
  const clients: SwitchboardClient[] = [];
  let direct: Stack;
  let proxied: Stack;
  /** Every line any process printed that says a failure went unhandled. */
  const unhandled: string[] = [];
  /** Pids of every process that printed its ready line, restarts included. */
  const readyPids = new Set<number>();
  const figures: Figures[] = [];
  const notes: string[] = [];
  /** When each recovery_incomplete reached a client. */
  const incomplete: number[] = [];
  /** Stops the publisher (also when the test failed half way). */
  let stopPublishing: () => Promise<void> = () => Promise.resolve();

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    proxy = await TcpProxy.start(redis.port);
    const [portA, portB] = [await freePort(), await freePort()];
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: secret(),
      PUBLISH_TOKEN: secret(),
      ADMIN_TOKEN: secret(),
      ADMIN_UI: 'on',
      TRUST_PROXY: 'loopback',
      REDIS_URL: redis.url,
      // Shortened so a SIGKILLed worker's jobs are re-run within seconds, not a minute.
      WORKER_LOCK_MS: '4000',
      SELF_HEAL_INTERVAL_MS: '1000',
      PRESENCE_HEARTBEAT_MS: '1000',
      PRESENCE_TTL_MS: '3000',
    };
    direct = new Stack(testConfig({ ...production, PORT: String(portA) }));
    // The second gateway reaches the same Redis through the proxy (the same key prefix).
    proxied = new Stack({
      ...direct.config,
      REDIS_URL: proxy.url.replace('http:', 'redis:'),
      PORT: portB,
    });
    launchers.push(await launch(direct, 1, 2), await launch(proxied, 1, 0));
    for (const launcher of launchers) watchLines(launcher.child, unhandled, readyPids);
    nginx = await startNginx([portA, portB]);
  }, 120_000);

  afterAll(async () => {
    await stopPublishing();
    if (figures.length < 7)
      for (const l of launchers)
        process.stdout.write(`launcher output (tail):\n${l.output().slice(-4000)}\n`);
    for (const c of clients) c.close();
    await nginx?.stop();
    for (const l of launchers) await l.stop();
    await proxy.close();
    await redis.close();
    await direct.close();
    if (figures.length > 0)
      process.stdout.write(
        `production topology, per fault:\n${JSON.stringify(figures, null, 1)}\n`,
      );
  }, 60_000);

  it('loses no accepted event, keeps every process up but the killed one, and heals after data loss', async () => {
    const lb = `http://127.0.0.1:${nginx!.port}`;
    const gatewayPorts = [direct.config.PORT, proxied.config.PORT];
    const keys = createKeys(direct.config.KEY_PREFIX);

    // Clients: the client library through nginx, each in one order room.
    const received: Array<Map<string, number>> = [];
    for (const room of ROOMS) {
      for (let i = 0; i < CLIENTS_PER_ROOM; i++) {
        const seen = new Map<string, number>();
        received.push(seen);
        const sb = createClient({
          url: lb,
          token: () => direct.token(`u-${room}-${i}`, ['admin']),
          socket: { reconnectionDelayMax: 500 },
          onRecoveryIncomplete: (r, reason) => {
            incomplete.push(Date.now());
            notes.push(`${Date.now()} ${r} c${i}: recovery incomplete: ${reason}`);
          },
          onError: (_ns, err, r) =>
            notes.push(`${Date.now()} ${r ?? ''} c${i}: error: ${err.message}`),
        });
        clients.push(sb);
        sb.on('/orders', 'order_status_changed', (_data, meta) =>
          seen.set(meta.id, (seen.get(meta.id) ?? 0) + 1),
        );
        await sb.join('/orders', `order:${room}`);
      }
    }
    const clientsOf = (room: string) =>
      received.slice(
        ROOMS.indexOf(room) * CLIENTS_PER_ROOM,
        (ROOMS.indexOf(room) + 1) * CLIENTS_PER_ROOM,
      );

    // The publisher: a POST every EVERY_MS through nginx, whatever happens.
    const accepted = new Map<string, Published[]>(ROOMS.map((r) => [r, []]));
    let refused = 0;
    let n = 0;
    const publishOne = async () => {
      const room = ROOMS[n++ % ROOMS.length] as string;
      try {
        const res = await fetch(`${lb}/api/events`, {
          method: 'POST',
          headers: direct.apiHeaders(),
          body: JSON.stringify({
            event: 'order_status_changed',
            data: { orderId: room, status: 'preparing', note: String(n) },
          }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as { id?: string };
        if (res.status === 202 && body.id)
          accepted.get(room)!.push({ id: body.id, at: Date.now() });
        else refused++;
      } catch {
        refused++;
      }
    };
    const publisher = every(EVERY_MS, publishOne);
    stopPublishing = () => publisher.stop();

    const countAccepted = () => [...accepted.values()].reduce((sum, list) => sum + list.length, 0);
    /** Accepted events every client of their room has, waiting until they all arrived. */
    const settle = async (exempt: (p: Published) => boolean) => {
      const missing = () =>
        ROOMS.flatMap((room) =>
          accepted
            .get(room)!
            .filter((p) => !exempt(p))
            .flatMap((p) =>
              clientsOf(room)
                .filter((seen) => !seen.has(p.id))
                .map(() => p.id),
            ),
        );
      await until(
        () => missing().length === 0,
        RECOVERY_MS,
        'every accepted event at every client of its room',
      ).catch(() => undefined);
      const duplicated = received.reduce(
        (sum, seen) => sum + [...seen.values()].filter((c) => c > 1).length,
        0,
      );
      return { lost: missing().length, duplicated };
    };

    /** Polls /readyz of each gateway (directly, as an orchestrator does) while `fault` runs and until all answer 200. */
    const readiness = async (fault: () => Promise<void>, ports: number[]) => {
      const started = Date.now();
      let down: number | undefined;
      const watch = { on: true };
      const ok = new Map<number, boolean>();
      const poll = (async () => {
        while (watch.on) {
          for (const port of ports) {
            const status = await fetch(`http://127.0.0.1:${port}/readyz`, {
              signal: AbortSignal.timeout(2000),
            }).then(
              (r) => r.status,
              () => 0,
            );
            ok.set(port, status === 200);
            if (status !== 200 && down === undefined) down = Date.now() - started;
          }
          await sleep(100);
        }
      })();
      try {
        await fault();
        await until(
          () => down !== undefined && ports.every((p) => ok.get(p) === true),
          RECOVERY_MS,
          'every /readyz 503 and then 200 again',
        );
        return { down, back: Date.now() - started };
      } finally {
        watch.on = false;
        await poll;
      }
    };

    const processes = (): Launched[] => launchers.flatMap((l) => [...l.gateways, ...l.workers]);
    const pidsBefore = processes().map((p) => p.pid);

    /** Accepted events no longer owed to the clients: those around the data loss (gone with it). */
    const excused = new Set<string>();
    const record = async (
      fault: string,
      ready: { down?: number; back?: number },
      lostWithData: (p: Published) => boolean = () => false,
    ) => {
      for (const list of accepted.values())
        for (const p of list) if (lostWithData(p)) excused.add(p.id);
      const exempt = (p: Published) => excused.has(p.id);
      const before = countAccepted();
      const { lost, duplicated } = await settle(exempt);
      if (lost > 0) {
        const missing = ROOMS.flatMap((room) =>
          accepted
            .get(room)!
            .filter((p) => !exempt(p))
            .flatMap((p) =>
              clientsOf(room).flatMap((seen, c) =>
                seen.has(p.id) ? [] : [`${room} c${c} ${p.id} at ${p.at}`],
              ),
            ),
        );
        process.stdout.write(`missing:\n${missing.join('\n')}\nnotes:\n${notes.join('\n')}\n`);
      }
      figures.push({
        fault,
        readyDownMs: ready.down,
        readyBackMs: ready.back,
        accepted: before,
        refused,
        lost,
        duplicated,
      });
      expect({ fault, lost, duplicated }).toEqual({ fault, lost: 0, duplicated: 0 });
      expect(unhandled).toEqual([]);
    };

    // Warm up: events flow before any fault.
    await until(() => countAccepted() >= 30, 20_000, 'the first accepted events');
    await record('none (warm-up)', {});

    // 1. Redis restarts (graceful stop, appendonly keeps its data).
    const restart = await readiness(async () => {
      await redis.stopProcess(true);
      await sleep(2000);
      await redis.startProcess();
    }, gatewayPorts);
    await record('redis restart (2 s)', restart);
    expect(processes().map((p) => alive(p.pid))).toEqual(pidsBefore.map(() => true));

    // 2. Redis freezes for 5 s.
    const freeze = await readiness(async () => {
      redis.signal('SIGSTOP');
      await sleep(5000);
      redis.signal('SIGCONT');
    }, gatewayPorts);
    await record('redis frozen (SIGSTOP 5 s)', freeze);
    expect(processes().map((p) => alive(p.pid))).toEqual(pidsBefore.map(() => true));

    // 3. The proxy between the second gateway and Redis drops every connection for 3 s.
    const cut = await readiness(async () => {
      proxy.cut();
      await sleep(3000);
      proxy.restore();
    }, [proxied.config.PORT]);
    await record('network drop, gateway 2 to redis (3 s)', cut);
    expect(processes().map((p) => alive(p.pid))).toEqual(pidsBefore.map(() => true));

    // 4. Redis comes back without its data. Events accepted around the loss may go with it;
    // those accepted once it is back must be delivered, and their handlers must run.
    let lossFrom = 0;
    const empty = await readiness(async () => {
      lossFrom = Date.now();
      await redis.stopProcess();
      redis.wipe();
      await sleep(1000);
      await redis.startProcess();
    }, gatewayPorts);
    // The gateways closed their sockets when their subscriber went; each client re-joins with its
    // last offset, which the new history does not hold: it is told `recovery_incomplete` (refetch
    // your state). What was emitted between Redis coming back and that re-join is covered by the
    // refetch, not by a replay; every event after it must arrive.
    await until(
      () => incomplete.filter((t) => t >= lossFrom).length >= received.length,
      RECOVERY_MS,
      'every client re-joined after the data loss',
    );
    const rejoined = Math.max(...incomplete.filter((t) => t >= lossFrom));
    const afterLoss = countAccepted();
    await until(
      () => countAccepted() >= afterLoss + 30,
      20_000,
      'events accepted after the data loss',
    );
    await record('redis back empty', empty, (p) => p.at <= rejoined && p.at >= lossFrom - 2000);
    expect(processes().map((p) => alive(p.pid))).toEqual(pidsBefore.map(() => true));
    const check = new Redis(redis.url);
    try {
      const handledIds = async () =>
        new Set(
          ((await check.xrange(keys.activityLog, '-', '+')) as Array<[string, string[]]>).map(
            ([, f]) => f[f.indexOf('id') + 1],
          ),
        );
      const newer = ROOMS.flatMap((room) => accepted.get(room)!.filter((p) => p.at > rejoined)).map(
        (p) => p.id,
      );
      expect(newer.length).toBeGreaterThan(0);
      await until(
        async () => {
          const handled = await handledIds();
          return newer.every((id) => handled.has(id));
        },
        RECOVERY_MS,
        'handlers ran for the events accepted after the data loss',
      );
    } finally {
      check.disconnect();
    }

    // 5. A worker, then a gateway, is SIGKILLed: the launcher starts each again.
    const [worker] = launchers[0]!.workers;
    process.kill(worker!.pid, 'SIGKILL');
    const readyBefore = readyPids.size;
    await until(
      () => readyPids.size > readyBefore,
      RECOVERY_MS,
      'the worker restarted (a new ready line)',
    );
    await record('worker SIGKILL', {});
    const [gateway] = launchers[1]!.gateways;
    const killed = await readiness(async () => {
      process.kill(gateway!.pid, 'SIGKILL');
      await Promise.resolve();
    }, [proxied.config.PORT]);
    await record('gateway SIGKILL', killed);
    const others = processes().filter((p) => p.pid !== worker!.pid && p.pid !== gateway!.pid);
    expect(others.map((p) => alive(p.pid))).toEqual(others.map(() => true));

    await stopPublishing();
    expect(countAccepted()).toBeGreaterThan(200);
  }, 400_000);
});

/** Collects every line of a launcher's output that says an error went unhandled or uncaught, and the pids that said they were ready. */
function watchLines(child: ChildProcess, unhandled: string[], readyPids: Set<number>): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      if (/unhandled|uncaught/i.test(line)) unhandled.push(line.slice(0, 500));
      const ready = /"pid":(\d+).*"msg":"(?:gateway|worker) ready"/.exec(line);
      if (ready) readyPids.add(Number(ready[1]));
    });
  }
}
