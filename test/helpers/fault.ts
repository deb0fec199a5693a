import type { ChildProcess } from 'node:child_process';
import { io, type Socket } from 'socket.io-client';
import type { EventMeta } from '../../src/catalog';
import type { Gateway } from '../../src/gateway/server';
import { waitForOutput, type Stack } from './stack';

/** Compares two meta.offset stream ids (`<ms>-<seq>`) numerically. */
export function cmpOffset(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
}

/**
 * Keeps the last `max` characters a child printed (stdout and stderr), so a failing test can show
 * them, and so the pipes are always drained (a child blocked on a full pipe would look hung).
 */
export function captureOutput(child: ChildProcess, max = 20_000): () => string {
  let tail = '';
  const onData = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-max);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return () => tail;
}

export interface SpawnedWorker {
  child: ChildProcess;
  output: () => string;
}

/** Starts `workers/main.ts` as a child process and waits for its "worker ready" line. */
export async function spawnWorker(
  stack: Stack,
  env: Record<string, string> = {},
): Promise<SpawnedWorker> {
  const child = stack.spawnTs('workers/main.ts', env);
  const output = captureOutput(child);
  await waitForOutput(child, 'worker ready', 30_000);
  return { child, output };
}

export interface SpawnedGateway extends SpawnedWorker {
  port: number;
  /** Stands in for a Gateway where the Stack helpers only need its port (`stack.client`, `stack.post`). */
  gw: Gateway;
}

/** Starts `src/app/gateway-main.ts` as a child process on a free port and resolves once it is ready. */
export function spawnGateway(
  stack: Stack,
  env: Record<string, string> = {},
): Promise<SpawnedGateway> {
  const child = stack.spawnTs('src/app/gateway-main.ts', { PORT: '0', ...env });
  const output = captureOutput(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`gateway did not start:\n${seen.slice(-2000)}`));
    }, 30_000);
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(
        new Error(`gateway exited (${code ?? signal}) before it was ready:\n${seen.slice(-2000)}`),
      );
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const port = /"port":(\d+)[^\n]*"gateway ready"/.exec(seen)?.[1];
      if (port) {
        cleanup();
        resolve({ child, output, port: Number(port), gw: { port: Number(port) } as Gateway });
      }
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** One delivery of an `order_status_changed` as a client saw it. */
export interface Delivery {
  id: string;
  offset: string;
  recovered: boolean;
  /** The `note` the producer put in the event (tests number their events with it). */
  note?: string;
  /** When it arrived (ms). */
  at: number;
  /** Which socket (connection) of the tracker received it: 0 for the first, 1 after a reconnect... */
  conn: number;
}

/**
 * What one logical client (possibly across several sockets) received in one order room: every
 * delivery in arrival order, with the newest meta.offset to re-join from.
 */
export class RoomTracker {
  readonly deliveries: Delivery[] = [];
  private readonly counts = new Map<string, number>();
  private conns = 0;
  lastOffset: string | undefined;

  /** Records `order_status_changed` on `socket` (call once per socket, before joining). */
  attach(socket: Socket): this {
    const conn = this.conns++;
    socket.on('order_status_changed', (data: { note?: string } | undefined, meta: EventMeta) => {
      const offset = meta.offset ?? '';
      this.deliveries.push({
        id: meta.id,
        offset,
        recovered: meta.recovered === true,
        note: data?.note,
        at: Date.now(),
        conn,
      });
      this.counts.set(meta.id, (this.counts.get(meta.id) ?? 0) + 1);
      if (offset && (this.lastOffset === undefined || cmpOffset(offset, this.lastOffset) > 0))
        this.lastOffset = offset;
    });
    return this;
  }

  has(id: string): boolean {
    return this.counts.has(id);
  }

  get unique(): number {
    return this.counts.size;
  }

  /** Deliveries beyond the first of each id. */
  get duplicates(): number {
    return this.deliveries.length - this.counts.size;
  }

  /** The first delivery of each id, in arrival order. */
  firstDeliveries(): Delivery[] {
    const seen = new Set<string>();
    return this.deliveries.filter((d) => !seen.has(d.id) && seen.add(d.id));
  }

  /** Ids received that are not in `expected`, and ids of `expected` never received. */
  diff(expected: Iterable<string>): { missing: string[]; extra: string[] } {
    const want = new Set(expected);
    return {
      missing: [...want].filter((id) => !this.counts.has(id)),
      extra: [...this.counts.keys()].filter((id) => !want.has(id)),
    };
  }
}

/**
 * A socket.io-client connection that reconnects on its own (like a browser client), websocket
 * only, registered with the stack so `stack.close()` disconnects it. Resolves once first connected.
 */
export async function reconnectingClient(
  stack: Stack,
  port: number,
  ns: string,
  auth: Record<string, unknown>,
): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}${ns}`, {
    transports: ['websocket'],
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    randomizationFactor: 0,
    forceNew: true,
    auth,
  });
  stack.sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${port}${ns}`)), 10_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return socket;
}
