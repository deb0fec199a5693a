import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Reply, Request } from './protocol';

/**
 * Child processes of one bench: services (gateway, worker) spawned from their real entry points,
 * and bench helpers (clients, producer) forked with an IPC channel. All are killed by pid.
 */
/** Every process the bench started, so an interrupted bench still kills them (by pid). */
const started = new Set<Proc>();
/** Async clean-ups (e.g. deleting a stack's Redis keys) to attempt when the bench is interrupted. */
const onInterruptCleanups = new Set<() => Promise<unknown>>();
let exitHookInstalled = false;
let interrupted = false;

function killStarted(): void {
  // nginx's master stops its workers on SIGTERM; a SIGKILLed master would leave them running.
  for (const p of started)
    if (p.alive) process.kill(p.pid, p.name === 'nginx' ? 'SIGTERM' : 'SIGKILL');
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killStarted);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      // A second signal does not wait for the clean-ups.
      if (interrupted) process.exit(130);
      interrupted = true;
      killStarted();
      const cleanups = Promise.allSettled([...onInterruptCleanups].map((fn) => fn()));
      void Promise.race([cleanups, new Promise((r) => setTimeout(r, 3000).unref())]).finally(() =>
        process.exit(130),
      );
    });
  }
}

/**
 * Registers a best-effort async clean-up for an interrupted bench (processes are killed first, and
 * the bench exits after at most 3 s). Returns the function that unregisters it.
 */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  installExitHook();
  onInterruptCleanups.add(cleanup);
  return () => onInterruptCleanups.delete(cleanup);
}

export class Proc {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly messageHandlers: Array<(msg: unknown) => void> = [];
  /** The last few KB of output, shown if the process dies or never gets ready. */
  tail = '';

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    started.add(this);
    installExitHook();
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-4000);
    };
    // Always drain the pipes: a full pipe would block the child and distort its timings.
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (msg: unknown) => {
      const reply = msg as Partial<Reply>;
      const waiter = typeof reply.id === 'number' ? this.pending.get(reply.id) : undefined;
      if (waiter && reply.id !== undefined) {
        this.pending.delete(reply.id);
        if (reply.ok) waiter.resolve(reply.result);
        else waiter.reject(new Error(`${name}: ${reply.error}`));
        return;
      }
      for (const h of this.messageHandlers) h(msg);
    });
    child.on('exit', (code, signal) => {
      for (const w of this.pending.values())
        w.reject(new Error(`${name} exited (${code ?? signal}): ${this.tail.slice(-800)}`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** False for a child that never started (spawn error: no pid), so nothing is ever sent to pid -1. */
  get alive(): boolean {
    return (
      this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  call<R>(cmd: string, args: unknown = {}, timeoutMs = 120_000): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as R);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, cmd, args } satisfies Request);
    });
  }

  onMessage(handler: (msg: unknown) => void): void {
    this.messageHandlers.push(handler);
  }

  waitForOutput(text: string, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        if (this.tail.includes(text)) {
          resolve();
          return;
        }
        if (!this.alive) {
          reject(new Error(`${this.name} exited before "${text}": ${this.tail.slice(-800)}`));
          return;
        }
        if (Date.now() - started > timeoutMs) {
          reject(new Error(`${this.name}: no "${text}" in ${timeoutMs} ms`));
          return;
        }
        setTimeout(check, 50);
      };
      check();
    });
  }

  /**
   * Ends the process by pid: SIGKILL by default. With another signal (nginx: SIGTERM, so its master
   * stops its workers; SIGKILL to the master would leave them running) SIGKILL follows after 5 s.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    process.kill(this.pid, signal);
    const fallback =
      signal === 'SIGKILL'
        ? undefined
        : setTimeout(() => this.alive && process.kill(this.pid, 'SIGKILL'), 5000);
    await exited;
    if (fallback) clearTimeout(fallback);
  }
}

/** Starts a real entry point (`node file`) with its own environment. */
export function spawnNode(name: string, file: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(name, child);
}

/** Forks a bench helper that answers requests over IPC (see `serve`). */
export function forkHelper(
  name: string,
  file: string,
  argv: string[],
  env: Record<string, string> = {},
): Proc {
  const child = fork(file, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  return new Proc(name, child);
}

/** Child side of the IPC protocol: runs the handler named by each request and replies. */
export function serve(handlers: Record<string, (args: never) => unknown>): void {
  process.on('message', (msg: Request) => {
    const handler = handlers[msg.cmd];
    const reply = (r: Omit<Reply, 'id'>) => process.send?.({ id: msg.id, ...r });
    if (!handler) return reply({ ok: false, error: `unknown command ${msg.cmd}` });
    Promise.resolve()
      .then(() => handler(msg.args as never))
      .then(
        (result) => reply({ ok: true, result }),
        (err: unknown) =>
          reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  // The parent going away (even by SIGKILL) closes the channel: do not linger.
  process.on('disconnect', () => process.exit(0));
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where unreadable. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds the whole machine has spent busy (all cores), from /proc/stat; NaN where unreadable. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, ...ticks] = line.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / 100;
  } catch {
    return NaN;
  }
}
