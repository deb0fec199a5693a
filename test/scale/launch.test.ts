import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { launchPlan, LaunchError } from '../../scripts/launch-plan';
import { restartBackoff } from '../../scripts/restart-backoff';
import type { Gateway } from '../../src/gateway/server';
import { alive, collectLines, launch, type Launcher } from '../helpers/launcher';
import { ROOT, Stack, testConfig } from '../helpers/stack';
import { call, nextEvent } from '../helpers/wait';

const summary = (env: NodeJS.ProcessEnv) =>
  launchPlan(env).map((p) => [
    p.name,
    p.entry,
    p.entry === 'workers/main' ? p.env.METRICS_PORT : p.env.PORT,
  ]);

describe('npm start: GATEWAYS x WORKERS', () => {
  it('runs one gateway on PORT and one worker on METRICS_PORT by default', () => {
    expect(summary({})).toEqual([
      ['gateway', 'src/app/gateway-main', '3000'],
      ['worker', 'workers/main', '9464'],
    ]);
  });

  it('gives gateway n PORT+n and worker n METRICS_PORT+n', () => {
    expect(summary({ GATEWAYS: '3', WORKERS: '2', PORT: '4000', METRICS_PORT: '9500' })).toEqual([
      ['gateway-1', 'src/app/gateway-main', '4000'],
      ['gateway-2', 'src/app/gateway-main', '4001'],
      ['gateway-3', 'src/app/gateway-main', '4002'],
      ['worker-1', 'workers/main', '9500'],
      ['worker-2', 'workers/main', '9501'],
    ]);
  });

  it('keeps port 0 (any free port) and leaves a non-number to the process config check', () => {
    expect(
      summary({ GATEWAYS: '2', PORT: '0', METRICS_PORT: 'x' }).map(([, , port]) => port),
    ).toEqual(['0', '0', 'x']);
  });

  it.each(['-1', '1.5', 'two', '65', ' 2'])('refuses %j as GATEWAYS or WORKERS', (bad) => {
    expect(() => launchPlan({ GATEWAYS: bad })).toThrow(
      new LaunchError(`GATEWAYS must be a whole number from 0 to 64 (got ${JSON.stringify(bad)})`),
    );
    expect(() => launchPlan({ WORKERS: bad })).toThrow(LaunchError);
  });

  it('runs only workers with GATEWAYS=0 and only gateways with WORKERS=0', () => {
    expect(summary({ GATEWAYS: '0', WORKERS: '2' })).toEqual([
      ['worker-1', 'workers/main', '9464'],
      ['worker-2', 'workers/main', '9465'],
    ]);
    expect(summary({ GATEWAYS: '2', WORKERS: '0', PORT: '4000' })).toEqual([
      ['gateway-1', 'src/app/gateway-main', '4000'],
      ['gateway-2', 'src/app/gateway-main', '4001'],
    ]);
  });

  it('refuses GATEWAYS=0 with WORKERS=0 in one line', () => {
    expect(() => launchPlan({ GATEWAYS: '0', WORKERS: '0' })).toThrow(
      new LaunchError(
        'GATEWAYS and WORKERS are both 0: nothing to run (set at least one of them to 1 or more)',
      ),
    );
  });

  it('refuses a port range past 65535', () => {
    expect(() => launchPlan({ GATEWAYS: '3', PORT: '65534' })).toThrow(
      'PORT 65534 leaves no room for 3 processes (port 65536 is past 65535)',
    );
  });

  it('the launcher prints one line and exits 2 on a bad count, starting nothing', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts/launch.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, GATEWAYS: 'three' },
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({
      status: 2,
      stderr: 'launch: GATEWAYS must be a whole number from 0 to 64 (got "three")\n',
      stdout: '',
    });
  });
});

describe('npm start: restart backoff', () => {
  /** The delays of `n` crashes in a row, each after `upMs` of running. */
  const delays = (n: number, upMs: number) => {
    let crashes = 0;
    return Array.from({ length: n }, () => {
      const next = restartBackoff(crashes, upMs);
      crashes = next.crashes;
      return next.delayMs;
    });
  };

  it('waits 1 s after a first crash, doubling per crash in a row up to 30 s', () => {
    expect(delays(8, 100)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(restartBackoff(1000, 0)).toEqual({ crashes: 1001, delayMs: 30000 });
  });

  it('starts over at 1 s after a process that had been up for a minute', () => {
    expect(restartBackoff(5, 60_000)).toEqual({ crashes: 1, delayMs: 1000 });
    expect(restartBackoff(5, 59_999)).toEqual({ crashes: 6, delayMs: 30000 });
    expect(delays(3, 60_000)).toEqual([1000, 1000, 1000]);
  });
});

/** Resolves with `promise`, or rejects naming `what` after `ms` (a launcher that never exits fails the test, not the run). */
const bounded = <T>(promise: Promise<T>, ms: number, what: string) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });

/** A pino line of a process the launcher runs: `[worker] {"pid":123,...,"msg":"worker ready"}`. */
const logOf = (line: string) => {
  const json = /^\[[\w-]+\] (\{.*\})$/.exec(line)?.[1];
  return json ? (JSON.parse(json) as { pid: number; msg?: string }) : undefined;
};

describe('npm start supervises its processes', () => {
  const stack = new Stack(testConfig());
  let launcher: Launcher | undefined;
  afterEach(async () => {
    await launcher?.stop();
    launcher = undefined;
  }, 30_000);
  afterAll(() => stack.close(), 30_000);

  it('restarts a SIGKILLed worker after 1 s, then 2 s; the gateway keeps its pid and serves; SIGTERM then stops all and exits 1', async () => {
    const l = (launcher = await launch(stack, 1, 1));
    const gateway = l.gateways[0]!;
    const first = l.workers[0]!;
    const socket = await stack.client(
      { port: gateway.port } as Gateway,
      '/orders',
      await stack.auth('ops', ['admin']),
    );
    expect(await call(socket, 'join_order', { orderId: 'supervised' })).toMatchObject({ ok: true });

    const killedAt = Date.now();
    process.kill(first.pid, 'SIGKILL');
    await l.waitFor(
      new RegExp(
        `^\\[worker\\] exited \\(signal SIGKILL, pid ${first.pid}, up \\d+\\.\\d s\\); restarting in 1 s$`,
      ),
    );
    const readyLine = await l.waitFor(
      (line) => logOf(line)?.msg === 'worker ready' && logOf(line)?.pid !== first.pid,
    );
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1000);
    const second = logOf(readyLine)!.pid;
    expect(l.workers.map((w) => w.pid)).toEqual([first.pid, second]);

    // The same gateway (one ready line, same pid, same client connection) hands the restarted worker an event to deliver.
    const event = nextEvent<{ orderId: string; status: string }>(
      socket,
      'order_status_changed',
      10_000,
    );
    const res = await stack.post({ port: gateway.port } as Gateway, '/api/events', {
      event: 'order_status_changed',
      data: { orderId: 'supervised', status: 'paid' },
    });
    expect(res.status).toBe(202);
    expect((await event)[0]).toEqual({ orderId: 'supervised', status: 'paid' });
    expect({
      gatewayAlive: alive(gateway.pid),
      gatewayReadyLines: l.linesMatching(/"gateway ready"/).length,
    }).toEqual({
      gatewayAlive: true,
      gatewayReadyLines: 1,
    });

    // A second crash in a row waits twice as long; SIGTERM meanwhile cancels that restart.
    process.kill(second, 'SIGKILL');
    await l.waitFor(
      new RegExp(
        `^\\[worker\\] exited \\(signal SIGKILL, pid ${second}, up \\d+\\.\\d s\\); restarting in 2 s$`,
      ),
    );
    l.child.kill('SIGTERM');
    expect(await bounded(l.exit, 20_000, 'launcher exit after SIGTERM')).toEqual({
      code: 1,
      signal: null,
    });
    expect(l.linesMatching(/"worker ready"/)).toHaveLength(2);
    expect(l.linesMatching(/"gateway stopped"/)).toHaveLength(1);
    expect([gateway.pid, first.pid, second].filter(alive)).toEqual([]);
  }, 90_000);

  it('exits 0 on SIGTERM when nothing crashed and every process stopped cleanly', async () => {
    const l = (launcher = await launch(stack, 1, 1));
    const pids = [...l.gateways, ...l.workers].map((p) => p.pid);
    l.child.kill('SIGTERM');
    const exit = await bounded(l.exit, 20_000, 'launcher exit after SIGTERM');
    // What the processes said on the way out, when one did not stop cleanly.
    expect(exit.code === 0 ? exit : { ...exit, output: l.output().slice(-3000) }).toEqual({
      code: 0,
      signal: null,
    });
    expect([
      l.linesMatching(/"gateway stopped"/).length,
      l.linesMatching(/"worker stopped"/).length,
      l.linesMatching(/ exited \(/).length,
    ]).toEqual([1, 1, 0]);
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);

  it('does not restart a process that exits with a configuration error: it stops the rest and exits 2', async () => {
    // PORT=x passes the launch plan (a non-number is left to the processes) and fails every process's config check.
    const child = stack.spawnTs('scripts/launch.ts', { GATEWAYS: '1', WORKERS: '1', PORT: 'x' });
    const lines = collectLines(child);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    expect(await bounded(exit, 30_000, 'launcher exit after a config error')).toEqual({
      code: 2,
      signal: null,
    });
    const said = lines.all.filter((line) => / exited \(/.test(line));
    expect(said).toHaveLength(1);
    const [, name] =
      /^\[(gateway|worker)\] exited \(code 2, pid \d+\): a configuration error, not restarting; stopping the rest$/.exec(
        said[0]!,
      ) ?? [];
    expect(name).toBeDefined();
    // The process that stopped first said what is wrong (the other may have been stopped before its check ran).
    expect(lines.all).toContain(
      `[${name}] invalid configuration: PORT: Invalid input: expected number, received NaN (got "x")`,
    );
  }, 60_000);
});
