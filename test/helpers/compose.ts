import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './stack';
import { sleep } from './wait';

/** What a command printed and how it ended. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a command to its end (killed by pid after `timeoutMs`), output captured; `onLine` sees each
 * stdout/stderr line as it comes (for timing the phases of a long command).
 */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onLine?: (line: string) => void } = {},
): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const lines = (chunk: string) => {
      if (!opts.onLine) return;
      partial += chunk;
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) opts.onLine(line);
    };
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      lines(c.toString());
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      lines(c.toString());
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** One container of a compose project, as `docker inspect` shows it. */
export interface Container {
  id: string;
  name: string;
  service: string;
  status: string;
  /** `healthy`, `starting`, `unhealthy`, or `none` for a container without a healthcheck. */
  health: string;
  restarts: number;
  pid: number;
}

interface Inspected {
  Id: string;
  Name: string;
  RestartCount: number;
  Config: { Labels: Record<string, string> };
  State: { Status: string; Pid: number; Health?: { Status: string } };
}

/** Every container of a compose project (by its label), running or not. */
export async function projectContainers(docker: string, project: string): Promise<Container[]> {
  const ps = await run(docker, [
    'ps',
    '-aq',
    '--filter',
    `label=com.docker.compose.project=${project}`,
  ]);
  const ids = ps.stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const inspect = await run(docker, ['inspect', ...ids]);
  if (inspect.code !== 0) return [];
  return (JSON.parse(inspect.stdout) as Inspected[])
    .map((c) => ({
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      service: c.Config.Labels['com.docker.compose.service'] ?? '',
      status: c.State.Status,
      health: c.State.Health?.Status ?? 'none',
      restarts: c.RestartCount,
      pid: c.State.Pid,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Running, and healthy where the container has a healthcheck. */
export const isUp = (c: Container) =>
  c.status === 'running' && (c.health === 'healthy' || c.health === 'none');

/**
 * One compose test at a time on this machine (from any checkout): two would share the engine, and
 * the first to finish would stop a dockerd the other still uses. A directory made atomically, with
 * the holder's pid; one whose holder is gone is taken over.
 */
export async function composeLock(timeoutMs: number): Promise<() => void> {
  const dir = path.join(tmpdir(), 'switchboard-compose-test.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
      } catch {
        // Being written right now, or left empty by a holder that died at that moment.
      }
      if (holder > 0 && !alive(holder)) rmSync(dir, { recursive: true, force: true });
      if (Date.now() > deadline)
        throw new Error(`another compose test (pid ${holder}) holds ${dir}`);
      await sleep(1000);
    }
  }
}

/** Whether a process exists and is not a zombie waiting to be reaped. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGTERM to a process we started, then waits for it to be gone (SIGKILL after `graceMs`). */
export async function stopPid(pid: number, graceMs = 20_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(100);
}
