import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mintToken } from '../../src/auth/tokens';
import { createClient, type SwitchboardClient } from '../../src/client';
import {
  composeLock,
  isUp,
  projectContainers,
  run,
  stopPid,
  type Container,
  type Ran,
} from '../helpers/compose';
import { freePort } from '../helpers/redis-server';
import { ROOT, testConfig } from '../helpers/stack';
import { every, sleep, until } from '../helpers/wait';

/**
 * docker-compose.yml as users run it: `docker-compose up --build` builds the project's Dockerfile
 * and starts Redis, gateway-1 and gateway-2, 2 worker replicas and nginx with deploy/nginx.conf,
 * here with random secrets in an env file and nginx on a free loopback port. Through that nginx:
 * 6 websocket-only and 6 long-polling-only clients (the client library) in one order room and a
 * publisher POSTing to /api/events the whole time. Then, as test/production/ does to the launched
 * stack: Redis restarted (`docker-compose restart redis`), a worker and a gateway SIGKILLed (the
 * restart policy brings them back). After each: every accepted event reached every client exactly
 * once, no other container restarted, no log line says unhandled or uncaught.
 *
 * The engine comes from scripts/ensure-docker.sh (started, and stopped here, by pid when none runs);
 * where it cannot run, the test prints one line and passes. The base images come from
 * scripts/docker-stand-ins.sh: on this machine no registry answers, so node:20-slim, redis:7-alpine
 * and nginx:1.27-alpine are local stand-ins built under those names; the Dockerfile and the compose
 * file are not changed for them.
 *
 * A "kill" is SIGKILL of the container's main process by its host pid, the way the OOM killer or a
 * crash ends it. `docker kill -s KILL` would not do: dockerd counts it as a manual stop, and no
 * restart policy (always, unless-stopped, on-failure) starts such a container again.
 */

const ROOM = 'compose';
const CLIENTS_PER_TRANSPORT = 6;
/** One POST every this many ms through nginx, the whole time. */
const EVERY_MS = 100;
/** How long one fault's recovery may take (a SIGKILLed worker's job waits for its 30 s lock). */
const RECOVERY_MS = 120_000;
const UNAVAILABLE = 3;

const secret = (bytes: number) => randomBytes(bytes).toString('base64url');

interface Published {
  id: string;
  at: number;
}

interface FaultFigures {
  fault: string;
  /** Fault start to the container up (and healthy) again. */
  backMs: number | undefined;
  /** Fault start to the first event accepted after the fault (Redis answering again, the process killed) being at all 12 clients. */
  deliveredMs: number | undefined;
  /** Fault start to every event accepted so far being at every client. */
  settledMs: number | undefined;
  /** The longest an event accepted around this fault took from its 202 to the last client. */
  slowestMs: number | undefined;
  /** Accepted by nginx and a gateway (202), since the start. */
  accepted: number;
  /** Refused (503 while Redis was away, 502 from nginx, timeouts) during this fault. */
  refused: number;
  lost: number;
  duplicated: number;
}

describe('docker-compose.yml: the image built and the stack run with Docker', () => {
  let unavailable: Ran | undefined;
  let release: (() => void) | undefined;
  let docker = 'docker';
  let compose: string[] = [];
  /** Pid of the dockerd scripts/ensure-docker.sh started for this run, if it did. */
  let startedDockerd: number | undefined;
  const project = `sbcompose${process.pid}${randomBytes(2).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-compose-'));
  const envFile = path.join(dir, 'compose.env');
  const secrets = { JWT_SECRET: secret(32), PUBLISH_TOKEN: secret(24), ADMIN_TOKEN: secret(24) };
  let httpPort = 0;
  /** Compose reads the env file; the shell's own values of these would win over it, so they are left out. */
  const composeEnv = (): NodeJS.ProcessEnv =>
    Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) =>
          !/^(COMPOSE_|JWT_|PUBLISH_TOKEN$|ADMIN_TOKEN$|ADMIN_UI$|HTTP_PORT$|WORKERS$|CORS_ORIGINS$|LOG_LEVEL$)/.test(
            name,
          ),
      ),
    );
  const dc = (args: string[], timeoutMs = 120_000, onLine?: (line: string) => void) =>
    run(compose[0]!, [...compose.slice(1), '-p', project, '--env-file', envFile, ...args], {
      env: composeEnv(),
      timeoutMs,
      onLine,
    });
  const figures: Record<string, unknown> = {};
  const faults: FaultFigures[] = [];
  const clients: SwitchboardClient[] = [];
  let stopPublishing: () => Promise<void> = () => Promise.resolve();
  let upOk = false;
  /** What the clients went through (connects, disconnects, errors), timestamped, for the log of a failed run. */
  const events: string[] = [];

  beforeAll(async () => {
    release = await composeLock(20 * 60_000);
    const ensure = await run('bash', [path.join(ROOT, 'scripts/ensure-docker.sh')], {
      timeoutMs: 10 * 60_000,
    });
    if (ensure.code === UNAVAILABLE) {
      unavailable = ensure;
      return;
    }
    if (ensure.code !== 0)
      throw new Error(
        `scripts/ensure-docker.sh failed (${ensure.code}):\n${ensure.stdout}${ensure.stderr}`,
      );
    const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(ensure.stdout)?.[1];
    docker = field('docker-client') ?? 'docker';
    compose = (field('docker-compose') ?? 'docker-compose').split(' ');
    const started = field('dockerd-started');
    if (started) startedDockerd = Number(started);
    figures.engine = /^docker: engine (.+)$/m.exec(ensure.stdout)?.[1];
    figures.dockerdStartedMs = started ? ensure.ms : 0;

    const standIns = await run('bash', [path.join(ROOT, 'scripts/docker-stand-ins.sh')], {
      env: { ...process.env, DOCKER: docker },
      timeoutMs: 15 * 60_000,
    });
    if (standIns.code !== 0)
      throw new Error(`scripts/docker-stand-ins.sh failed:\n${standIns.stdout}${standIns.stderr}`);
    figures.standInsMs = standIns.ms;
    figures.standIns = standIns.stdout.trim().split('\n');

    httpPort = await freePort();
    // HTTP_PORT with an address: compose publishes nginx on 127.0.0.1 only.
    writeFileSync(
      envFile,
      Object.entries({ ...secrets, HTTP_PORT: `127.0.0.1:${httpPort}`, LOG_LEVEL: 'info' })
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    chmodSync(envFile, 0o600);

    const imageBefore = (
      await run(docker, ['image', 'inspect', '--format', '{{.Id}}', 'switchboard:local'])
    ).stdout.trim();
    const started0 = Date.now();
    let createdAt: number | undefined;
    const up = await dc(['up', '--build', '-d'], 15 * 60_000, (line) => {
      if (createdAt === undefined && line.startsWith(`Creating ${project}_`))
        createdAt = Date.now();
    });
    if (up.code !== 0)
      throw new Error(`docker-compose up --build failed:\n${(up.stdout + up.stderr).slice(-6000)}`);
    const steps = up.stdout.match(/^Step \d+\/\d+ : (?!FROM )/gm)?.length ?? 0;
    figures.buildMs = (createdAt ?? Date.now()) - started0;
    figures.buildStepsFromCache = `${up.stdout.match(/^ ---> Using cache$/gm)?.length ?? 0} of ${steps} (the image built once per service: gateway-1, gateway-2, worker)`;
    // The image this build replaced is no longer tagged: remove it (kept if something still uses it).
    const imageAfter = (
      await run(docker, ['image', 'inspect', '--format', '{{.Id}}', 'switchboard:local'])
    ).stdout.trim();
    if (imageBefore && imageBefore !== imageAfter) await run(docker, ['rmi', imageBefore]);

    // Ready: every container running, those with a healthcheck healthy, and nginx answering.
    await until(
      async () => {
        const cs = await projectContainers(docker, project);
        return cs.length === 6 && cs.every(isUp);
      },
      180_000,
      'every container up and healthy',
    );
    await until(
      () =>
        fetch(`http://127.0.0.1:${httpPort}/api/openapi.json`, {
          signal: AbortSignal.timeout(2000),
        }).then(
          (r) => r.ok,
          () => false,
        ),
      60_000,
      'nginx answering /api/openapi.json',
    );
    figures.upMs = Date.now() - (createdAt ?? started0);
    upOk = true;
  }, 30 * 60_000);

  afterAll(async () => {
    await stopPublishing();
    for (const c of clients) c.close();
    if (compose.length > 0) {
      // Every container's log and what the clients went through, in test/artifacts/ (kept out of
      // git; the last run's only); their tail here when the run did not get through.
      const logs = await dc(['logs', '--no-color', '--timestamps']);
      const file = path.join(ROOT, 'test/artifacts', 'compose-last.log');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${logs.stdout}\nclient events:\n${events.join('\n')}\n`);
      if (!upOk || faults.length < 4)
        process.stdout.write(
          `compose logs (tail; all of them and the clients' events in ${file}):\n${logs.stdout.slice(-4000)}\n`,
        );
      const down = await dc(['down', '-v', '--remove-orphans'], 180_000);
      figures.downMs = down.ms;
      if (down.code !== 0) process.stderr.write(`docker-compose down -v failed:\n${down.stderr}\n`);
    }
    if (startedDockerd !== undefined) {
      await stopPid(startedDockerd);
      rmSync(path.join(ROOT, '.docker-engine', 'dockerd.pid'), { force: true });
    }
    rmSync(dir, { recursive: true, force: true });
    release?.();
    if (!unavailable)
      process.stdout.write(
        `compose stack, figures:\n${JSON.stringify({ ...figures, faults }, null, 1)}\n`,
      );
  }, 5 * 60_000);

  it(
    'serves websocket and polling clients through nginx and loses nothing through a Redis restart, a worker kill and a gateway kill',
    async () => {
      if (unavailable) {
        const reason = unavailable.stderr.trim().split('\n').pop() ?? '';
        process.stdout.write(`compose test skipped: ${reason}\n`);
        expect(unavailable.code).toBe(UNAVAILABLE);
        expect(reason).toMatch(/^docker: unavailable: /);
        return;
      }
      const lb = `http://127.0.0.1:${httpPort}`;
      const config = testConfig(secrets);
      const unhandled: string[] = [];

      // 6 websocket-only and 6 polling-only clients, each with a fresh token on every (re)connect.
      const received: Array<Map<string, number>> = [];
      /** When the last client got each event. */
      const complete = new Map<string, number>();
      const errors: string[] = [];
      const connect = async (transport: 'websocket' | 'polling', i: number) => {
        const seen = new Map<string, number>();
        received.push(seen);
        const sb = createClient({
          url: lb,
          token: () => mintToken(config, { userId: `${transport}-${i}`, roles: ['admin'] }),
          socket: { transports: [transport], reconnectionDelayMax: 500 },
          onError: (_ns, err) => {
            errors.push(`${transport}-${i}: ${err.message}`);
            events.push(`${new Date().toISOString()} ${transport}-${i} error: ${err.message}`);
          },
          onConnect: (_ns, url) =>
            events.push(`${new Date().toISOString()} ${transport}-${i} connect ${url}`),
          onDisconnect: (_ns, reason, _details, server) =>
            events.push(
              `${new Date().toISOString()} ${transport}-${i} disconnect ${reason} ${JSON.stringify(server ?? {})}`,
            ),
          onRecoveryIncomplete: (_room, reason) =>
            events.push(
              `${new Date().toISOString()} ${transport}-${i} recovery incomplete: ${reason}`,
            ),
        });
        clients.push(sb);
        sb.on('/orders', 'order_status_changed', (_data, meta) => {
          seen.set(meta.id, (seen.get(meta.id) ?? 0) + 1);
          if (
            received.length === CLIENTS_PER_TRANSPORT * 2 &&
            received.every((r) => r.has(meta.id)) &&
            !complete.has(meta.id)
          )
            complete.set(meta.id, Date.now());
        });
        const joined = await Promise.race([
          sb.join('/orders', `order:${ROOM}`).then(() => true),
          sleep(30_000).then(() => false),
        ]);
        return joined;
      };
      const joined = await Promise.all([
        ...Array.from({ length: CLIENTS_PER_TRANSPORT }, (_, i) => connect('websocket', i)),
        ...Array.from({ length: CLIENTS_PER_TRANSPORT }, (_, i) => connect('polling', i)),
      ]);
      const websocketJoined = joined.slice(0, CLIENTS_PER_TRANSPORT).filter(Boolean).length;
      const pollingJoined = joined.slice(CLIENTS_PER_TRANSPORT).filter(Boolean).length;
      figures.joined = {
        websocket: `${websocketJoined} of ${CLIENTS_PER_TRANSPORT}`,
        polling: `${pollingJoined} of ${CLIENTS_PER_TRANSPORT}`,
      };
      expect({ websocketJoined, pollingJoined, errors: errors.slice(0, 5) }).toEqual({
        websocketJoined: 6,
        pollingJoined: 6,
        errors: [],
      });

      // One publish reaches all 12.
      const publish = async (note: string) => {
        const res = await fetch(`${lb}/api/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${secrets.PUBLISH_TOKEN}`,
          },
          body: JSON.stringify({
            event: 'order_status_changed',
            data: { orderId: ROOM, status: 'preparing', note },
          }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as { id?: string };
        return res.status === 202 ? body.id : undefined;
      };
      const first = await publish('first');
      expect(first).toEqual(expect.any(String));
      await until(
        () => received.every((r) => r.get(first!) === 1),
        20_000,
        'the first event at all 12 clients',
      );

      // The publisher, through nginx, the whole time.
      const accepted: Published[] = [{ id: first!, at: Date.now() }];
      let refused = 0;
      let n = 0;
      const publisher = every(EVERY_MS, () =>
        publish(String(++n)).then(
          (id) => {
            if (id) accepted.push({ id, at: Date.now() });
            else refused++;
          },
          () => {
            refused++;
          },
        ),
      );
      stopPublishing = () => publisher.stop();

      const missing = () =>
        accepted.flatMap((p) => received.filter((seen) => !seen.has(p.id)).map(() => p.id));
      const duplicated = () =>
        received.reduce((sum, seen) => sum + [...seen.values()].filter((c) => c > 1).length, 0);
      const restartsBefore = new Map(
        (await projectContainers(docker, project)).map((c) => [c.name, c.restarts]),
      );

      /** Waits until every accepted event is at every client, then records the fault's figures. */
      let refusedBefore = 0;
      const record = async (
        fault: string,
        at?: { startedAt: number; endedAt: number; backMs: number },
        killed?: Container,
      ) => {
        // Events accepted after the fault, delivered: the recovery is visible to the clients.
        if (at) {
          const count = accepted.length;
          await until(
            () => accepted.length >= count + 20,
            RECOVERY_MS,
            'events accepted after the fault',
          );
        }
        await until(
          () => missing().length === 0,
          RECOVERY_MS,
          'every accepted event at every client',
        ).catch(() => undefined);
        const settledMs = at && missing().length === 0 ? Date.now() - at.startedAt : undefined;
        const after = at ? accepted.filter((p) => p.at >= at.endedAt && complete.has(p.id)) : [];
        const deliveredMs =
          at && after.length > 0
            ? Math.min(...after.map((p) => complete.get(p.id)!)) - at.startedAt
            : undefined;
        const lost = missing().length;
        const around = at
          ? accepted.filter((p) => p.at >= at.startedAt - 5000 && complete.has(p.id))
          : [];
        const slowestMs =
          around.length > 0
            ? Math.max(...around.map((p) => complete.get(p.id)! - p.at))
            : undefined;
        faults.push({
          fault,
          backMs: at?.backMs,
          deliveredMs,
          settledMs,
          slowestMs,
          accepted: accepted.length,
          refused: refused - refusedBefore,
          lost,
          duplicated: duplicated(),
        });
        refusedBefore = refused;
        if (lost > 0)
          process.stdout.write(
            `${fault}: missing ${[...new Set(missing())].slice(0, 20).join(' ')}\nclient errors: ${errors.slice(-20).join('\n')}\n`,
          );
        expect({ fault, lost, duplicated: duplicated() }).toEqual({
          fault,
          lost: 0,
          duplicated: 0,
        });
        // No container restarted but the one killed.
        const now = await projectContainers(docker, project);
        expect(
          now
            .filter((c) => c.name !== killed?.name && c.restarts !== restartsBefore.get(c.name))
            .map((c) => c.name),
        ).toEqual([]);
        expect(now.filter((c) => !isUp(c)).map((c) => `${c.name} ${c.status} ${c.health}`)).toEqual(
          [],
        );
        if (killed)
          restartsBefore.set(killed.name, now.find((c) => c.name === killed.name)!.restarts);
      };

      /** SIGKILLs a service's container's main process and waits for the restart policy to bring it back healthy. */
      const crash = async (service: string) => {
        const target = (await projectContainers(docker, project)).find(
          (c) => c.service === service && c.status === 'running',
        )!;
        const startedAt = Date.now();
        process.kill(target.pid, 'SIGKILL');
        const endedAt = Date.now();
        await until(
          async () => {
            const c = (await projectContainers(docker, project)).find(
              (x) => x.name === target.name,
            );
            return c !== undefined && c.restarts > target.restarts && isUp(c);
          },
          RECOVERY_MS,
          `${target.name} restarted by its restart policy and healthy`,
        );
        return { target, at: { startedAt, endedAt, backMs: Date.now() - startedAt } };
      };

      await until(() => accepted.length >= 30, 20_000, 'the first accepted events');
      await record('none (warm-up)');

      // 1. Redis restarts (compose stops it with SIGTERM: appendonly keeps what was accepted).
      {
        const startedAt = Date.now();
        const restart = await dc(['restart', 'redis'], 120_000);
        expect(restart.code).toBe(0);
        const endedAt = Date.now();
        await until(
          async () => (await projectContainers(docker, project)).every(isUp),
          RECOVERY_MS,
          'every container up after the Redis restart',
        );
        await record('docker-compose restart redis', {
          startedAt,
          endedAt,
          backMs: Date.now() - startedAt,
        });
      }

      // 2. A worker, 3. a gateway: SIGKILLed, brought back by `restart: unless-stopped`.
      {
        const { target, at } = await crash('worker');
        await record(`worker SIGKILL (${target.name})`, at, target);
      }
      {
        const { target, at } = await crash('gateway-1');
        await record(`gateway SIGKILL (${target.name})`, at, target);
      }

      await stopPublishing();
      await until(() => missing().length === 0, RECOVERY_MS, 'the last events').catch(
        () => undefined,
      );
      expect({ lost: missing().length, duplicated: duplicated() }).toEqual({
        lost: 0,
        duplicated: 0,
      });
      expect(accepted.length).toBeGreaterThan(100);
      figures.clientsReconnected =
        clients.reduce((sum, c) => sum + c.stats.connects, 0) - clients.length;

      // No process said an error went unhandled.
      const logs = await dc(['logs', '--no-color']);
      for (const line of logs.stdout.split('\n'))
        if (/unhandled|uncaught/i.test(line)) unhandled.push(line.slice(0, 500));
      expect(unhandled).toEqual([]);
      // The polling clients really polled: nginx logged their requests (EIO=4&transport=polling).
      expect(logs.stdout).toMatch(/transport=polling/);
    },
    20 * 60_000,
  );
});
