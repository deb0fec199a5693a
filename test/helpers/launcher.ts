import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { captureOutput } from './fault';
import type { Stack } from './stack';

/** A process `scripts/launch.ts` started, as its "ready" line told. */
export interface Launched {
  name: string;
  pid: number;
  /** A gateway's PORT, or a worker's METRICS_PORT. */
  port: number;
}

/** A pattern, or a test of a whole line. */
export type LineMatch = RegExp | ((line: string) => boolean);

export interface Launcher {
  child: ChildProcess;
  gateways: Launched[];
  workers: Launched[];
  output: () => string;
  /** How the launcher exited (its own exit code, after every process it ran is gone). */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first output line (stdout or stderr, prefix included) that matches, printed already or later. */
  waitFor: (match: LineMatch, timeoutMs?: number) => Promise<string>;
  /** Every output line so far matching `pattern`. */
  linesMatching: (pattern: RegExp) => string[];
  /** SIGTERM to the launcher (it forwards it), then SIGKILL to any process still there, by pid. */
  stop: () => Promise<void>;
}

/** Whether a process with this pid is running (signal 0). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Runs `npm start`'s launcher from source (`scripts/launch.ts` under tsx) with the stack's config
 * and GATEWAYS / WORKERS, and resolves once every gateway and worker printed its ready line (their
 * ports and pids are read from it; the stack's config has PORT=0 and METRICS_PORT=0). `env` adds to
 * (or overrides) the environment. A process restarted later adds its ready line to `gateways` or
 * `workers` too, after the first ones.
 */
export function launch(
  stack: Stack,
  gateways: number,
  workers: number,
  timeoutMs = 40_000,
  env: Record<string, string> = {},
): Promise<Launcher> {
  const child = stack.spawnTs('scripts/launch.ts', {
    GATEWAYS: String(gateways),
    WORKERS: String(workers),
    ...env,
  });
  const output = captureOutput(child);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines = collectLines(child);
  // Every pid a child logged (pino puts it on each line), so none outlives the test, ready or not.
  const pids = new Set<number>();
  const up: Launcher = {
    child,
    gateways: [],
    workers: [],
    output,
    exit,
    waitFor: lines.waitFor,
    linesMatching: (pattern) => lines.all.filter((line) => pattern.test(line)),
    stop: () => stop(child, pids),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`launcher not ready within ${timeoutMs} ms:\n${output().slice(-3000)}`)),
      timeoutMs,
    );
    const onExit = (code: number | null) =>
      fail(
        new Error(
          `launcher exited (${code}) before every process was ready:\n${output().slice(-3000)}`,
        ),
      );
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      void up.stop().then(() => reject(err));
    };
    child.once('exit', onExit);
    // Lines look like `[gateway-2] {"pid":123,...,"port":4567,...,"msg":"gateway ready"}`.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [, name, json] = /^\[([\w-]+)\] (\{.*\})$/.exec(line) ?? [];
      if (!name || !json) return;
      let entry: { pid: number; msg?: string; port?: number; metricsPort?: number };
      try {
        entry = JSON.parse(json) as typeof entry;
      } catch {
        return;
      }
      pids.add(entry.pid);
      if (entry.msg === 'gateway ready')
        up.gateways.push({ name, pid: entry.pid, port: entry.port! });
      if (entry.msg === 'worker ready')
        up.workers.push({ name, pid: entry.pid, port: entry.metricsPort! });
      if (up.gateways.length === gateways && up.workers.length === workers) {
        clearTimeout(timer);
        child.off('exit', onExit);
        for (const list of [up.gateways, up.workers])
          list.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
        resolve(up);
      }
    });
  });
}

/** Every line a child prints on stdout or stderr, and a wait for one of them. */
export function collectLines(child: ChildProcess): {
  all: string[];
  waitFor: (match: LineMatch, timeoutMs?: number) => Promise<string>;
} {
  const all: string[] = [];
  const waiters = new Set<(line: string) => void>();
  for (const stream of [child.stdout, child.stderr])
    if (stream)
      createInterface({ input: stream }).on('line', (line) => {
        all.push(line);
        for (const waiter of waiters) waiter(line);
      });
  const waitFor = (match: LineMatch, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const matches = typeof match === 'function' ? match : (line: string) => match.test(line);
      const seen = all.find(matches);
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `no line matching ${String(match)} within ${timeoutMs} ms; last lines:\n${all.slice(-30).join('\n')}`,
          ),
        );
      }, timeoutMs);
      const waiter = (line: string) => {
        if (!matches(line)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(line);
      };
      waiters.add(waiter);
    });
  return { all, waitFor };
}

async function stop(child: ChildProcess, pids: Set<number>, graceMs = 20_000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
}
