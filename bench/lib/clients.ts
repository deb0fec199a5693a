/**
 * Client process: `node clients.js <url> <count>` (forked with IPC, BENCH_TOKENS = JSON array of
 * at least `count` handshake tokens). Opens `count` websocket clients on the bench namespace, each
 * with its own token, joins them to the bench room, and per run counts each event once per socket
 * and records receive time - send time on the shared clock.
 */
import { io, type Socket } from 'socket.io-client';
import {
  BENCH_EVENT,
  BENCH_NS,
  BENCH_ORDER,
  decodeNote,
  type ClientReport,
  type StartArgs,
  type Timeline,
} from './protocol';
import { serve } from './procs';
import { clock, Histogram } from './stats';

interface SocketState {
  socket: Socket;
  seen: Uint8Array;
  distinct: number;
}

const [url = '', countArg = '50'] = process.argv.slice(2);
/** One handshake token per socket (distinct users, role admin), minted by the orchestrator. */
const tokens = JSON.parse(process.env.BENCH_TOKENS ?? '[]') as string[];
const sockets: SocketState[] = [];
let run = -1;
let expected = 0;
let hist = new Histogram();
let duplicates = 0;
let stale = 0;
let lastRecvAt = 0;
let complete = 0;
/** Every event received, any run: lets the orchestrator see when stragglers stop arriving. */
let received = 0;
/** Epoch second of send time -> [max latency, deliveries over 100 ms]; only when the run asks (StartArgs.timeline). */
let timeline: Map<number, [number, number]> | undefined;

function onEvent(state: SocketState, data: { note?: unknown } | undefined): void {
  const now = clock();
  received++;
  const note = decodeNote(data?.note);
  if (!note || note.run !== run) {
    stale++;
    return;
  }
  // Out of range (beyond the run's capacity) counts as stale rather than growing memory.
  if (!(note.seq < state.seen.length)) {
    stale++;
    return;
  }
  if (state.seen[note.seq]) {
    duplicates++;
    return;
  }
  state.seen[note.seq] = 1;
  state.distinct++;
  const latency = now - note.sentAt;
  hist.record(latency);
  if (timeline) {
    const second = Math.floor(note.sentAt / 1000);
    const slot = timeline.get(second);
    if (!slot) timeline.set(second, [latency, latency > 100 ? 1 : 0]);
    else {
      if (latency > slot[0]) slot[0] = latency;
      if (latency > 100) slot[1]++;
    }
  }
  lastRecvAt = now;
  // Tell the orchestrator as soon as every socket has every event, so it need not poll.
  if (state.distinct === expected && ++complete === sockets.length)
    process.send?.({ event: 'complete', run });
}

async function connect(n: number): Promise<void> {
  if (tokens.length < n)
    throw new Error(`BENCH_TOKENS has ${tokens.length} tokens for ${n} sockets`);
  for (let i = 0; i < n; i++) {
    const socket = io(`${url}${BENCH_NS}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: tokens[i] },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err: Error & { data?: unknown }) =>
        reject(new Error(`connect_error: ${err.message} ${JSON.stringify(err.data ?? {})}`)),
      );
    });
    const ack = (await socket
      .timeout(5000)
      .emitWithAck('join_order', { orderId: BENCH_ORDER })) as { ok: boolean };
    if (!ack.ok) throw new Error(`join_order refused: ${JSON.stringify(ack)}`);
    const state: SocketState = { socket, seen: new Uint8Array(0), distinct: 0 };
    socket.on(BENCH_EVENT, (data: { note?: unknown } | undefined) => onEvent(state, data));
    socket.on('disconnect', (reason) => process.send?.({ event: 'disconnect', reason }));
    sockets.push(state);
  }
}

serve({
  start: ({ run: r, expected: n, capacity, timeline: keepTimeline }: StartArgs) => {
    run = r;
    timeline = keepTimeline ? new Map() : undefined;
    expected = n ?? Infinity;
    hist = new Histogram();
    duplicates = stale = lastRecvAt = complete = 0;
    for (const s of sockets) {
      s.seen = new Uint8Array(capacity ?? n ?? 0);
      s.distinct = 0;
    }
    return { sockets: sockets.length };
  },
  /** Flood runs: the count is known once the producer has stopped. */
  expect: ({ run: r, expected: n }: { run: number; expected: number }) => {
    if (r !== run) throw new Error(`expect for run ${r} during run ${run}`);
    expected = n;
    complete = sockets.filter((s) => s.distinct >= n).length;
    if (complete === sockets.length) process.send?.({ event: 'complete', run });
    return { complete };
  },
  report: (): ClientReport => ({
    run,
    perSocket: sockets.map((s) => s.distinct),
    duplicates,
    stale,
    lastRecvAt,
    hist: hist.toSparse(),
    max: hist.max,
    sum: hist.sum,
    ...(timeline
      ? {
          timeline: [...timeline]
            .map(([second, [max, over]]): Timeline[number] => [
              second,
              Math.round(max * 10) / 10,
              over,
            ])
            .sort((a, b) => a[0] - b[0]),
        }
      : {}),
  }),
  received: () => received,
  clock: () => clock(),
});

connect(Number(countArg)).then(
  () => process.send?.({ event: 'ready', sockets: sockets.length }),
  (err: unknown) => {
    process.stderr.write(`clients failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
