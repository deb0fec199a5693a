import type { Namespace as IoNamespace } from 'socket.io';
import type { Adapter } from 'socket.io-adapter';
import { RoomHistory, type HistoryPage } from '../history/room-history';
import { logger } from '../logger';
import type { Runtime } from '../runtime';
import { RECOVERY_INCOMPLETE_EVENT } from '../wire/protocol';
import { markSlowConsumer } from './outbound-cap';
import type { GatewaySocket, ReplaySocket } from './socket-types';

const log = logger('recovery');

/** Where a join starts: after `since` (recovery), or the room's last `rewind` events. */
export interface JoinFrom {
  since?: string | undefined;
  rewind?: number | undefined;
}

/** A join's ack data: the room, its position, and what was sent before the live events. */
export interface JoinResult {
  room: string;
  /** The room's last history entry id when the join completed (`'0-0'`: none). */
  offset: string;
  /** Events replayed after `since`. */
  recovered?: number;
  /** The history could not cover the gap: `recovery_incomplete` was sent too. */
  incomplete?: true;
  /** Events sent by `rewind`. */
  rewound?: number;
}

/** What socket.io calls with each namespace to make its adapter. */
type AdapterFactory = (nsp: IoNamespace) => Adapter;
type Apply = (opts: unknown, callback: (socket: GatewaySocket) => void) => void;

/**
 * Recovery on re-join: a client that reconnects joins its rooms again with `since` = the last
 * meta.offset it saw, and gets the events it missed, in order, before any live one. Works on any
 * gateway: the history is in Redis, not in this process (Socket.IO's own connection-state recovery
 * does not cover the plain Redis adapter).
 *
 * Ordering: while a socket catches up, broadcasts to it are held (the adapter's `apply` is wrapped
 * per socket), the history is read and sent, then the held broadcasts go out. A live event that
 * lands in both the history read and the hold arrives twice with the same meta.id; clients
 * de-duplicate on it as for every at-least-once delivery.
 */
export class Recovery {
  /**
   * Per catching-up socket: held broadcasts (`turn: false`, with the rooms they went to) and
   * re-joins waiting for their turn (`turn: true`).
   */
  private readonly held = new Map<string, HeldItem[]>();
  private readonly history: RoomHistory;
  /** Replay pages read and sent at once by this gateway, whoever asks (see ReplayTurns). */
  private readonly turns = new ReplayTurns(REPLAY_PAGES_AT_ONCE);

  constructor(
    rt: Pick<Runtime, 'redis' | 'keys'>,
    /** MAX_CLIENT_BUFFER_BYTES: a replay sends a quarter of it at a time. */
    private readonly maxBufferBytes: number,
  ) {
    this.history = new RoomHistory(rt.redis, rt.keys);
  }

  /** Wraps an adapter factory so broadcasts to a catching-up socket wait for its catch-up. */
  adapter(factory: AdapterFactory): AdapterFactory {
    const held = this.held;
    // socket.io calls the factory with `new`, so it must be a function, not an arrow.
    return function recoveringAdapter(nsp: IoNamespace) {
      const adapter = factory(nsp);
      // `apply` is where every broadcast (local or from Redis) reaches each socket. It is marked
      // private in socket.io-adapter's typings; test/e2e/recovery.test.ts fails if that changes.
      const target = adapter as unknown as { apply: Apply };
      const apply = target.apply.bind(adapter);
      target.apply = (opts, callback) =>
        apply(opts, (socket) => {
          const queue = held.get(socket.id);
          if (queue) queue.push({ turn: false, rooms: roomsOf(opts), run: () => callback(socket) });
          else callback(socket);
        });
      return adapter;
    };
  }

  /**
   * Joins `room` and acks the room's position (`offset`: its last history entry, `'0-0'` when it
   * has none), so a client always has a position to recover from. With `since` it first replays
   * what the socket missed after that offset (or emits `recovery_incomplete { room }` when the
   * history no longer covers it: the client refetches its state); else with `rewind: n` it first
   * sends the room's last n events. Either way they are flagged (`meta.recovered` / `meta.rewound`)
   * and sent before any live event: broadcasts to the socket are held meanwhile, and the position
   * is read before they go out, so whatever follows it arrives live.
   */
  async join(socket: GatewaySocket, room: string, from: JoinFrom = {}): Promise<JoinResult> {
    const ns = socket.nsp.name;
    if (from.since === undefined && !from.rewind) {
      // Joined first, read second: an event after the position read is broadcast to the socket.
      await socket.join(room);
      try {
        return { room, offset: await this.history.latest(ns, room) };
      } catch (err) {
        await socket.leave(room);
        throw err;
      }
    }
    if (this.held.has(socket.id)) {
      await this.turn(socket);
      return this.join(socket, room, from);
    }
    this.held.set(socket.id, []);
    let failed = false;
    try {
      await socket.join(room);
      if (from.since === undefined) {
        const count = from.rewind ?? 0;
        const page = await this.turns.run(() => this.history.last(ns, room, count));
        const { sent } = await this.replay(socket, room, page);
        return { room, offset: await this.history.latest(ns, room), rewound: sent };
      }
      const offset = from.since;
      const catchup = await this.history.since(ns, room, offset, 1);
      const replay = catchup.complete
        ? await this.replay(socket, room, catchup.page)
        : { sent: 0, reason: catchup.reason };
      const position = await this.history.latest(ns, room);
      if (replay.reason !== undefined) {
        log.info({ ns, room, offset, reason: replay.reason }, 'recovery incomplete');
        socket.emit(RECOVERY_INCOMPLETE_EVENT, { room, reason: replay.reason });
        return { room, offset: position, recovered: replay.sent, incomplete: true };
      }
      return { room, offset: position, recovered: replay.sent };
    } catch (err) {
      // A failed catch-up (Redis not answering yet) is a failed join: the client asks again with
      // the same `since`. Left in the room, the socket would get live events meanwhile, and they
      // would move the client's position past the events it never got.
      failed = true;
      await socket.leave(room);
      throw err;
    } finally {
      await this.release(socket, failed);
    }
  }

  /**
   * Reads and sends missed events a page at a time, each page after the previous one has been
   * written to the transport: at most REPLAY_PAGE entries and about a quarter of
   * MAX_CLIENT_BUFFER_BYTES per page (the next page's count follows the last one's entry size), so
   * a long or heavy history never sits in memory at once, never blocks the event loop for long,
   * and never passes the outbound cap of the client that is catching up. A client that does not
   * read a page within REPLAY_DRAIN_MS is closed like any slow consumer. Past MAX_REPLAY events the
   * rest is not replayed: `reason` says so (the client refetches its state).
   */
  private async replay(
    socket: ReplaySocket,
    room: string,
    first: HistoryPage,
  ): Promise<{ sent: number; reason?: string }> {
    const sliceBytes = Math.max(
      16_384,
      Math.min(REPLAY_PAGE_BYTES, Math.floor(this.maxBufferBytes / 4)),
    );
    let page = first;
    let sent = 0;
    for (;;) {
      for (const { event, data, meta } of page.events) {
        if (socket.disconnected) return { sent };
        socket.emit(event, data, meta);
        sent++;
      }
      if (!(await written(socket, REPLAY_DRAIN_MS))) {
        if (socket.connected) {
          log.warn({ socket: socket.id }, 'closing a client that does not read its recovery');
          markSlowConsumer(socket.conn);
          socket.conn.close(true);
        }
        return { sent };
      }
      if (page.next === undefined) return { sent };
      if (sent >= MAX_REPLAY) return { sent, reason: `more than ${MAX_REPLAY} events missed` };
      const perEntry = page.events.length > 0 ? page.bytes / page.events.length : 1;
      const count = Math.max(
        1,
        Math.min(REPLAY_PAGE, MAX_REPLAY - sent, Math.floor(sliceBytes / Math.max(1, perEntry))),
      );
      const next = page.next;
      page = await this.turns.run(() => this.history.after(socket.nsp.name, room, next, count));
    }
  }

  /** Catch-ups on one socket run one after another, so each keeps the hold for its own. */
  private async turn(socket: GatewaySocket): Promise<void> {
    await new Promise<void>((resolve) => {
      const queue = this.held.get(socket.id);
      if (queue) queue.push({ turn: true, rooms: NO_ROOMS, run: resolve });
      else resolve();
    });
  }

  /**
   * Lets the held broadcasts go, paced like the replay (RELEASE_SLICE at a time, then a wait until
   * written): live traffic held during a long catch-up can be large. Broadcasts arriving meanwhile
   * queue behind. At a waiting re-join the hold ends and the rest goes out as it comes.
   */
  private async release(socket: GatewaySocket, left: boolean): Promise<void> {
    const queue = this.held.get(socket.id) ?? [];
    let sent = 0;
    for (let next = queue[0]; next && !next.turn && socket.connected; next = queue[0]) {
      queue.shift();
      // After a failed join, what went only to rooms the socket is no longer in is not its to get.
      if (left && next.rooms.size > 0 && ![...next.rooms].some((r) => socket.rooms.has(r)))
        continue;
      next.run();
      if (++sent % RELEASE_SLICE === 0 && !(await written(socket, REPLAY_DRAIN_MS))) break;
    }
    this.held.delete(socket.id);
    for (const item of queue) item.run();
  }
}

/**
 * A FIFO of replay page reads shared by every socket of a gateway. A page's CPU (parsing the
 * Redis reply, encoding and writing the packets) runs in the turn its read answers; with at most
 * `slots` reads in flight, a health check or a live event waits behind that many pages, not behind
 * one page per replaying socket (40 sockets replaying a full history stalled /healthz for seconds).
 */
class ReplayTurns {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await read();
    } finally {
      const next = this.waiting.shift();
      if (next) setImmediate(next);
      else this.free++;
    }
  }
}

/** Replay page reads in flight per gateway: two, so one is parsed while the other is on the wire. */
const REPLAY_PAGES_AT_ONCE = 2;

/** Bytes of history per replay page at most (less when MAX_CLIENT_BUFFER_BYTES / 4 is smaller). */
const REPLAY_PAGE_BYTES = 131_072;

interface HeldItem {
  turn: boolean;
  /** The rooms a held broadcast went to (empty: the whole namespace, or a re-join's turn). */
  rooms: ReadonlySet<string>;
  run: () => void;
}

const NO_ROOMS: ReadonlySet<string> = new Set();

/** The target rooms of a broadcast, from the options socket.io-adapter's `apply` gets. */
function roomsOf(opts: unknown): ReadonlySet<string> {
  const rooms = (opts as { rooms?: ReadonlySet<string> } | undefined)?.rooms;
  return rooms ?? NO_ROOMS;
}

/** Most events one re-join replays; past that the client is told `recovery_incomplete` (refetch instead). */
const MAX_REPLAY = 10_000;

/** History entries read and sent at most per replay page. */
const REPLAY_PAGE = 100;

/** Held broadcasts sent between two waits for the transport (small: their sizes are unknown here). */
const RELEASE_SLICE = 32;

/** How long a recovering client may take to read one replay slice. */
const REPLAY_DRAIN_MS = 10_000;

/** Resolves true once engine.io has written everything queued for the socket; false on timeout or close. */
async function written(socket: GatewaySocket, timeoutMs: number): Promise<boolean> {
  const conn = socket.conn as unknown as EngineConn;
  const deadline = Date.now() + timeoutMs;
  // Long-polling is not writable between two GETs, normally: only what is queued is waited for
  // (its drain comes with the client's next GET). A websocket not writable is still sending.
  while (
    conn.readyState === 'open' &&
    (conn.writeBuffer.length > 0 || (!conn.transport.writable && conn.transport.name !== 'polling'))
  ) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        conn.transport.off('drain', done);
        conn.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, left);
      conn.transport.once('drain', done);
      conn.once('close', done);
    });
  }
  return conn.readyState === 'open';
}

/** The parts of engine.io's socket the replay pacing reads (its typings keep them private). */
interface EngineConn {
  readyState: string;
  writeBuffer: unknown[];
  transport: {
    name: string;
    writable: boolean;
    once(event: 'drain', fn: () => void): void;
    off(event: 'drain', fn: () => void): void;
  };
  once(event: 'close', fn: () => void): void;
  off(event: 'close', fn: () => void): void;
}
