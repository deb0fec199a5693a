import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../bench/lib/free-port';

// The bench and the tests start servers on ports of their own: one helper finds them a free one.
export { freePort };

/**
 * A private redis-server for tests that stop or restart Redis (never the shared one).
 * appendonly is on so a restart keeps what was written.
 */
export class TestRedisServer {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'sb-redis-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  /** `extraArgs`: more redis-server options, e.g. `--cluster-enabled yes` (see redis-cluster.ts). */
  static async start(extraArgs: string[] = []): Promise<TestRedisServer> {
    // A cluster node also binds its bus, on port + 10000.
    const bus = extraArgs.includes('--cluster-enabled') ? [10_000] : [];
    const server = new TestRedisServer(await freePort(bus), extraArgs);
    await server.startProcess();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server process's pid, -1 while it is stopped. */
  get pid(): number {
    const child = this.child;
    return child && child.exitCode === null && child.signalCode === null ? (child.pid ?? -1) : -1;
  }

  async startProcess(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--dir',
        this.dir,
        ...this.extraArgs,
      ],
      {
        stdio: 'ignore',
      },
    );
    // Generous: a restart on a loaded machine (the soak's) replays its append-only file first.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const probe = new Redis(this.url, {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        // A refused connection has already ended (no retries): disconnect() would arm ioredis's
        // 2 s stream-destroy timer on a closed stream and keep a short test file from exiting.
        if (probe.status !== 'end') probe.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Stops the server process (SIGKILL unless graceful) and waits until it is gone. */
  async stopProcess(graceful = false): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    });
  }

  /** Sends a signal to the server process, e.g. SIGSTOP / SIGCONT to freeze it. */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Deletes what the server persisted (it must be stopped): the next start comes back empty. */
  wipe(): void {
    for (const entry of readdirSync(this.dir))
      rmSync(path.join(this.dir, entry), { recursive: true, force: true });
  }

  /** Slot ranges this node serves as a cluster master (`CLUSTER SHARDS` of itself). */
  async slots(): Promise<Array<[number, number]>> {
    const redis = new Redis(this.url, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const myId = await redis.cluster('MYID');
      const nodes = (await redis.cluster('NODES')) as string;
      const mine = nodes.split('\n').find((line) => line.startsWith(myId)) ?? '';
      return mine
        .split(' ')
        .slice(8)
        .filter((part) => /^\d+(-\d+)?$/.test(part))
        .map((part) => {
          const [from, to] = part.split('-').map(Number);
          return [from as number, (to ?? from) as number];
        });
    } finally {
      redis.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.stopProcess();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
