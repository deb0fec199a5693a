import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { mintToken } from '../../src/auth/tokens';
import { loadConfig, type Config } from '../../src/config';
import { openGateway } from '../../src/app/gateway';
import type { Gateway } from '../../src/gateway/server';
import { openWorker, type WorkerProcess } from '../../src/app/worker';
import { deleteKeys, TEST_REDIS_MODE, TEST_REDIS_URL, uniquePrefix } from './redis';
import { within } from '../../src/timeout';

export const ROOT = path.resolve(__dirname, '../..');

/** The user `stack.client()` connects as unless a test passes its own auth. */
export const TEST_USER = 'test-user';

/** A config for one test: real Redis, unique prefix, ephemeral port, loopback only. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    REDIS_URL: TEST_REDIS_URL,
    REDIS_MODE: TEST_REDIS_MODE,
    KEY_PREFIX: uniquePrefix(),
    PORT: '0',
    HOST: '127.0.0.1',
    // Worker processes a test spawns serve /metrics on a free port each, never the shared default.
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ENQUEUE_TIMEOUT_MS: '2000',
    ...overrides,
  });
}

/**
 * Everything a test starts, closed in reverse order by `close()`: gateways, in-process workers,
 * child processes (killed by pid), client sockets, and finally the test's Redis keys.
 */
export class Stack {
  readonly gateways: Gateway[] = [];
  readonly workers: WorkerProcess[] = [];
  readonly children: ChildProcess[] = [];
  readonly sockets: Socket[] = [];

  constructor(readonly config: Config = testConfig()) {}

  async gateway(): Promise<Gateway> {
    const gw = await openGateway(this.config);
    this.gateways.push(gw);
    return gw;
  }

  /**
   * The stack's gateway and worker, started on first use, with window flush jobs parked (the
   * throttle queue paused): windows stay open until the test flushes, drops or lists them, and
   * what an operator flushes is still emitted by the worker.
   */
  async gatewayWithParkedFlushes(): Promise<Gateway> {
    const existing = this.gateways[0];
    if (existing) return existing;
    const gw = await this.gateway();
    await gw.runtime.events.throttleQueue.pause();
    await this.worker();
    return gw;
  }

  async worker(): Promise<WorkerProcess> {
    const w = await openWorker(this.config);
    this.workers.push(w);
    return w;
  }

  /** Runs a TypeScript entry point (e.g. `workers/main.ts`) as a real child process. */
  spawnTs(entry: string, env: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
      cwd: ROOT,
      env: { ...process.env, ...configEnv(this.config), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    return child;
  }

  /** A valid handshake token for a user of this stack's config. */
  token(userId: string, roles: string[] = []): Promise<string> {
    return mintToken(this.config, { userId, roles });
  }

  /** Handshake auth for a user: `stack.client(gw, '/orders', await stack.auth('ops', ['admin']))`. */
  async auth(userId: string, roles: string[] = []): Promise<{ token: string }> {
    return { token: await this.token(userId, roles) };
  }

  /**
   * A real socket.io-client connection to a namespace of a gateway, websocket only. Without
   * `auth` it presents a valid token of the default test user (`TEST_USER`); pass `{}` for none.
   */
  async client(gw: Gateway, ns: string, auth?: Record<string, unknown>): Promise<Socket> {
    const socket = io(`http://127.0.0.1:${gw.port}${ns}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: auth ?? (await this.auth(TEST_USER)),
    });
    this.sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  }

  url(gw: Gateway, p: string): string {
    return `http://127.0.0.1:${gw.port}${p}`;
  }

  /** Headers of an authorized JSON call to the HTTP API (the service token). */
  apiHeaders(): Record<string, string> {
    return {
      'content-type': 'application/json',
      authorization: `Bearer ${this.config.PUBLISH_TOKEN}`,
    };
  }

  /** `POST`s JSON to the HTTP API with the service token. */
  post(gw: Gateway, p: string, body: unknown, method = 'POST'): Promise<Response> {
    return fetch(this.url(gw, p), {
      method,
      headers: this.apiHeaders(),
      body: JSON.stringify(body),
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.disconnect();
    for (const c of this.children) await killChild(c);
    for (const w of this.workers.reverse()) await closeWithin(w.close(), 'worker');
    for (const g of this.gateways.reverse()) await closeWithin(g.close(), 'gateway');
    // A test's own cluster is cleaned where it is; standalone tests clean the shared Redis (a private
    // redis-server of a fault test is gone by now, with its keys).
    if (this.config.REDIS_MODE === 'cluster')
      await deleteKeys(this.config.KEY_PREFIX, this.config.REDIS_URL, 'cluster');
    else await deleteKeys(this.config.KEY_PREFIX);
  }
}

/**
 * Waits for a close, at most 15 s: a part that does not close (seen once in a few dozen runs after
 * a cluster master restarted) is named on stderr instead of holding the suite's teardown hook.
 */
async function closeWithin(closing: Promise<void>, what: string): Promise<void> {
  const closed = closing.then(
    () => 'closed' as const,
    () => 'closed' as const,
  );
  const outcome = await within(closed, 15_000, () => 'late' as const);
  if (outcome === 'late')
    process.stderr.write(`stack: a ${what} did not close within 15 s; moving on\n`);
}

/** The environment a child process needs to share this stack's Redis prefix and queue. */
export function configEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  // Config[keyof Config]: the optional settings (ADMIN_TOKEN, ...) can be undefined.
  for (const [key, value] of Object.entries<Config[keyof Config]>(config))
    if (value !== undefined) env[key] = String(value);
  return { ...env, LOG_LEVEL: 'info' };
}

/** Sends SIGKILL unless the child already exited, and waits for it to be gone. */
export async function killChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Resolves when the child prints a line containing `text` (on stdout or stderr). */
export function waitForOutput(
  child: ChildProcess,
  text: string,
  timeoutMs = 15_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        cleanup();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `timed out waiting for ${JSON.stringify(text)}; output so far:\n${seen.slice(-2000)}`,
        ),
      );
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}
