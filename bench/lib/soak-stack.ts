import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { nginxPrefix } from '../../test/helpers/nginx-prefix';
import { TestRedisServer } from '../../test/helpers/redis-server';
import { freePort } from './free-port';
import { sleep } from './harness';
import { onInterrupt, Proc, spawnNode } from './procs';
import { ROOT } from './report';

/**
 * The processes of the soak, each started the way users run it and stopped by pid: a redis-server
 * with appendonly that can be restarted, frozen and emptied; Debian's nginx with the shipped
 * deploy/nginx.conf; `npm start`'s launcher (dist/scripts/launch.js) supervising gateways and
 * workers.
 */

/**
 * A redis-server of the soak's own (test/helpers/redis-server.ts: appendonly in a temporary
 * directory, a fixed port across restarts) and the faults the soak does to it.
 */
export class SoakRedis {
  private constructor(
    private readonly server: TestRedisServer,
    private readonly forget: () => void,
  ) {}

  static async start(): Promise<SoakRedis> {
    const server = await TestRedisServer.start();
    // An interrupted bench stops it too (the bench's own processes are killed by pid the same way).
    const forget = onInterrupt(() => server.stopProcess());
    return new SoakRedis(server, forget);
  }

  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  get pid(): number {
    return this.server.pid;
  }

  /** SIGTERM (Redis writes its append-only file), down for `downMs`, started again. */
  async restart(downMs: number): Promise<void> {
    await this.server.stopProcess(true);
    await sleep(downMs);
    await this.server.startProcess();
  }

  /** SIGSTOP for `ms`, then SIGCONT: connections stay open and nothing answers. */
  async freeze(ms: number): Promise<void> {
    this.server.signal('SIGSTOP');
    await sleep(ms);
    this.server.signal('SIGCONT');
  }

  /** Back after `downMs` without any of its data (no persistence, a failover to an empty replica). */
  async backEmpty(downMs: number): Promise<void> {
    await this.server.stopProcess(true);
    this.server.wipe();
    await sleep(downMs);
    await this.server.startProcess();
  }

  async close(): Promise<void> {
    this.server.signal('SIGCONT');
    await this.server.close();
    this.forget();
  }
}

/** deploy/nginx.conf, unchanged, on a loopback port in front of `gatewayPorts` (its two include files written beside a copy). */
export async function startSoakNginx(
  gatewayPorts: number[],
): Promise<{ port: number; proc: Proc; close: () => Promise<void> }> {
  const nginx = '/usr/sbin/nginx';
  const port = await freePort();
  const { dir, args } = nginxPrefix(ROOT, 'sb-soak-nginx-', port, gatewayPorts);
  // The access log is /dev/stdout in the shipped config: a file here, not a pipe of ours to drain.
  const accessLog = openSync(path.join(dir, 'access.log'), 'a');
  const proc = new Proc('nginx', spawn(nginx, args, { stdio: ['ignore', accessLog, 'pipe'] }));
  closeSync(accessLog);
  const close = async () => {
    await proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  await proc.waitForOutput('start worker process ', 10_000).catch(async (err: unknown) => {
    await close();
    throw err;
  });
  return { port, proc, close };
}

/** One `npm start` launcher (built), its output scanned line by line for failures that went unhandled. */
export class SoakLauncher {
  readonly proc: Proc;
  /** Lines that say an error went unhandled or uncaught (none expected). */
  readonly unhandled: string[] = [];
  /** Lines the launcher wrote about a child that stopped on its own. */
  readonly exits: string[] = [];

  /** Every child pid seen: an interrupted bench SIGKILLs the launcher, whose children would be left running. */
  private readonly seen = new Set<number>();

  constructor(name: string, env: Record<string, string>) {
    this.proc = spawnNode(name, path.join(ROOT, 'dist/scripts/launch.js'), env);
    const killSeen = () => {
      for (const pid of this.seen) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    onInterrupt(() => {
      killSeen();
      return Promise.resolve();
    });
    process.on('exit', killSeen);
    let partial = '';
    const scan = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (/unhandled|uncaught/i.test(line)) this.unhandled.push(line.slice(0, 400));
        if (/\] exited \(/.test(line)) this.exits.push(line.slice(0, 200));
      }
    };
    this.proc.child.stdout?.on('data', scan);
    this.proc.child.stderr?.on('data', scan);
  }

  /** Its children now: `gateway:<PORT>` or `worker:<METRICS_PORT>` -> pid. */
  children(): Map<string, number> {
    const out = new Map<string, number>();
    let pids: number[];
    try {
      pids = execFileSync('pgrep', ['-P', String(this.proc.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return out; // none (pgrep exits 1)
    }
    for (const pid of pids) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const env = new Map(
          readFileSync(`/proc/${pid}/environ`, 'utf8')
            .split('\0')
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
        );
        if (cmdline.includes('app/gateway-main')) out.set(`gateway:${env.get('PORT')}`, pid);
        else if (cmdline.includes('workers/main'))
          out.set(`worker:${env.get('METRICS_PORT')}`, pid);
        this.seen.add(pid);
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  /** Waits until `count` children are up and answer /readyz on their ports. */
  async ready(ports: number[], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      this.children(); // remembers their pids
      if (!this.proc.alive)
        throw new Error(`${this.proc.name} exited: ${this.proc.tail.slice(-1500)}`);
      const statuses = await Promise.all(ports.map((p) => readyStatus(p)));
      if (statuses.every((s) => s === 200)) return;
      await sleep(250);
    }
    throw new Error(
      `${this.proc.name}: not ready within ${timeoutMs} ms: ${this.proc.tail.slice(-1500)}`,
    );
  }

  /** SIGTERM (the launcher stops its children) and waits; SIGKILL after 20 s. */
  async stop(): Promise<number | null> {
    if (!this.proc.alive) return this.proc.child.exitCode;
    const exited = new Promise<number | null>((resolve) =>
      this.proc.child.once('exit', (code) => resolve(code)),
    );
    process.kill(this.proc.pid, 'SIGTERM');
    const forced = setTimeout(() => void this.proc.kill(), 20_000);
    const code = await exited;
    clearTimeout(forced);
    return code;
  }
}

/** The status of `GET /readyz` on a local port (0 when nothing answers within 2 s). */
export function readyStatus(port: number): Promise<number> {
  return fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.status,
    () => 0,
  );
}

/**
 * From a process's /metrics: event loop lag p99 in ms since the previous scrape, and the V8 heap
 * in use in MiB (NaN where unanswered).
 */
export async function processGauges(
  port: number,
): Promise<{ lagP99Ms: number; heapUsedMiB: number; heapTotalMiB: number }> {
  let text = '';
  try {
    text = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) })
    ).text();
  } catch {
    // not answering: NaN below
  }
  const value = (re: RegExp) => {
    const v = re.exec(text)?.[1];
    return v === undefined ? NaN : Number(v);
  };
  return {
    lagP99Ms: value(/^switchboard_nodejs_eventloop_lag_p99_seconds (\S+)$/m) * 1000,
    heapUsedMiB: value(/^switchboard_nodejs_heap_size_used_bytes (\S+)$/m) / 2 ** 20,
    heapTotalMiB: value(/^switchboard_nodejs_heap_size_total_bytes (\S+)$/m) / 2 ** 20,
  };
}
