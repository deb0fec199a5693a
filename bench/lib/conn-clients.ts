/**
 * Many idle connections (forked with IPC, `node conn-clients.js <url>`): `connect { tokens |
 * count, first, concurrency }` opens one socket.io-client Manager per connection (websocket only,
 * no reconnection) on /orders, each with its own token when tokens are given, and joins connection
 * n to `order c<n mod 100>` (ack awaited), keeping at most `concurrency` connects in flight.
 * Reports when the first connect started and the last join was acked (shared clock), so the
 * orchestrator can compute the connect rate over all client processes; `connected` counts the
 * sockets still up; `close` disconnects them.
 */
import { io, type Socket } from 'socket.io-client';
import { BENCH_NS } from './protocol';
import { serve } from './procs';
import { clock, Histogram, type SparseHistogram } from './stats';

const [url = ''] = process.argv.slice(2);
let sockets: Socket[] = [];
let dropped = 0;
let dropReasons: Record<string, number> = {};

export interface ConnectArgs {
  /** One token per connection (distinct users); absent: connections without auth (bare server). */
  tokens?: string[];
  count: number;
  /** Global index of this process's first connection (order room c<n mod 100>). */
  first: number;
  concurrency: number;
  timeoutMs: number;
}

export interface ConnectReport {
  opened: number;
  failed: number;
  errors: string[];
  firstStartAt: number;
  lastAckAt: number;
  /** Per connection: connect start -> join acked, ms (a histogram to merge over processes). */
  hist: SparseHistogram;
  max: number;
  sum: number;
}

async function openOne(n: number, token: string | undefined, timeoutMs: number): Promise<Socket> {
  const socket = io(`${url}${BENCH_NS}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
    ...(token !== undefined ? { auth: { token } } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err: Error) =>
        reject(new Error(`connect_error: ${err.message}`)),
      );
    });
    const ack = (await socket
      .timeout(timeoutMs)
      .emitWithAck('join_order', { orderId: `c${n % 100}` })) as { ok?: boolean } | undefined;
    if (!ack?.ok) throw new Error(`join_order refused: ${JSON.stringify(ack).slice(0, 200)}`);
  } catch (err) {
    socket.disconnect();
    throw err;
  }
  socket.on('disconnect', (reason) => {
    dropped++;
    dropReasons[reason] = (dropReasons[reason] ?? 0) + 1;
  });
  return socket;
}

serve({
  connect: async ({
    tokens,
    count,
    first,
    concurrency,
    timeoutMs,
  }: ConnectArgs): Promise<ConnectReport> => {
    if (tokens && tokens.length < count)
      throw new Error(`${tokens.length} tokens for ${count} connections`);
    const hist = new Histogram();
    const errors: string[] = [];
    let failed = 0;
    let next = 0;
    const firstStartAt = clock();
    let lastAckAt = firstStartAt;
    const lane = async () => {
      while (next < count) {
        const i = next++;
        const t0 = clock();
        try {
          sockets.push(await openOne(first + i, tokens?.[i], timeoutMs));
          lastAckAt = clock();
          hist.record(lastAckAt - t0);
        } catch (err) {
          failed++;
          if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
    return {
      opened: count - failed,
      failed,
      errors,
      firstStartAt,
      lastAckAt,
      hist: hist.toSparse(),
      max: hist.max,
      sum: hist.sum,
    };
  },
  connected: () => ({ connected: sockets.filter((s) => s.connected).length, dropped, dropReasons }),
  close: () => {
    for (const s of sockets) s.disconnect();
    const n = sockets.length;
    sockets = [];
    dropped = 0;
    dropReasons = {};
    return { closed: n };
  },
  clock: () => clock(),
});

process.send?.({ event: 'ready' });
