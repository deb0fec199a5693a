import type { RedisClient } from '../redis/connections';
import type { Namespace as IoNamespace } from 'socket.io';
import type { Adapter } from 'socket.io-adapter';
import { RoomHistory, type ReplayedEvent } from '../history/room-history';
import { logger } from '../logger';
import type { Runtime } from '../runtime';
import { markSlowConsumer } from './outbound-cap';
import type { GatewaySocket, ReplaySocket } from './socket-types';

const log = logger('recovery');

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
  /** Per catching-up socket: held broadcasts (`send`) and re-joins waiting for their turn (`turn`). */
  private readonly held = new Map<string, Array<{ turn: boolean; run: () => void }>>();
  private readonly history: RoomHistory;

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
          if (queue) queue.push({ turn: false, run: () => callback(socket) });
          else callback(socket);
        });
      return adapter;
    };
  }

  /**
   * Joins `room` and replays what the socket missed since `offset`. If the history no longer
   * covers the gap, emits `recovery_incomplete { room }` instead (the client refetches its state).
   */
  async rejoin(socket: GatewaySocket, room: string, offset: string): Promise<{ room: string; recovered: number; incomplete?: true }> {
    if (this.held.has(socket.id)) return this.afterCurrent(socket, room, offset);
    this.held.set(socket.id, []);
    try {
      await socket.join(room);
      const catchup = await this.history.since(socket.nsp.name, room, offset);
      if (!catchup.complete) {
        log.info({ ns: socket.nsp.name, room, offset, reason: catchup.reason }, 'recovery incomplete');
        socket.emit('recovery_incomplete', { room, reason: catchup.reason });
        return { room, recovered: 0, incomplete: true };
      }
      await this.replay(socket, catchup.events);
      return { room, recovered: catchup.events.length };
    } finally {
      await this.release(socket);
    }
  }

  /**
   * Sends missed events at the pace the client reads them: a slice of about a quarter of
   * MAX_CLIENT_BUFFER_BYTES, then a wait until the transport has written it. All at once, a long
   * gap would pass the outbound cap and close the very client that is catching up. A client that
   * does not read a slice within REPLAY_DRAIN_MS is closed like any slow consumer.
   */
  private async replay(socket: ReplaySocket, events: ReplayedEvent[]): Promise<void> {
    const slice = Math.max(16_384, Math.floor(this.maxBufferBytes / 4));
    let bytes = 0;
    for (const { event, data, meta } of events) {
      if (socket.disconnected) return;
      socket.emit(event, data, meta);
      bytes += JSON.stringify(data).length + 200;
      if (bytes < slice) continue;
      bytes = 0;
      if (!(await written(socket, REPLAY_DRAIN_MS))) {
        log.warn({ socket: socket.id }, 'closing a client that does not read its recovery');
        markSlowConsumer(socket.conn);
        socket.conn.close(true);
        return;
      }
    }
  }

  /** Re-joins on one socket run one after another, so each keeps the hold for its own catch-up. */
  private async afterCurrent(socket: GatewaySocket, room: string, offset: string) {
    await new Promise<void>((resolve) => {
      const queue = this.held.get(socket.id);
      if (queue) queue.push({ turn: true, run: resolve });
      else resolve();
    });
    return this.rejoin(socket, room, offset);
  }

  /**
   * Lets the held broadcasts go, paced like the replay (RELEASE_SLICE at a time, then a wait until
   * written): live traffic held during a long catch-up can be large. Broadcasts arriving meanwhile
   * queue behind. At a waiting re-join the hold ends and the rest goes out as it comes.
   */
  private async release(socket: GatewaySocket): Promise<void> {
    const queue = this.held.get(socket.id) ?? [];
    let sent = 0;
    for (let next = queue[0]; next && !next.turn && socket.connected; next = queue[0]) {
      queue.shift();
      next.run();
      if (++sent % RELEASE_SLICE === 0 && !(await written(socket, REPLAY_DRAIN_MS))) break;
    }
    this.held.delete(socket.id);
    for (const item of queue) item.run();
  }
}

/** Held broadcasts sent between two waits for the transport (small: their sizes are unknown here). */
const RELEASE_SLICE = 32;

/** How long a recovering client may take to read one replay slice. */
const REPLAY_DRAIN_MS = 10_000;

/** Resolves true once engine.io has written everything queued for the socket; false on timeout or close. */
async function written(socket: GatewaySocket, timeoutMs: number): Promise<boolean> {
  const conn = socket.conn as unknown as EngineConn;
  const deadline = Date.now() + timeoutMs;
  while (conn.readyState === 'open' && (conn.writeBuffer.length > 0 || !conn.transport.writable)) {
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
  transport: { writable: boolean; once(event: 'drain', fn: () => void): void; off(event: 'drain', fn: () => void): void };
  once(event: 'close', fn: () => void): void;
  off(event: 'close', fn: () => void): void;
}

/**
 * Whether this gateway receives the adapter's broadcasts. Those published while its subscriber
 * connection is down (RedisClient restarted, or only this connection dropped) never reach its sockets,
 * and nothing would tell their clients: the websockets stay up, and a client cannot see a gap in
 * offsets (the next live event moves its `since` past the gap). So when the connection drops,
 * every client connection is closed at once (transport close, no DISCONNECT packet, as on
 * shutdown) and new ones are refused until the subscriptions are back: clients reconnect and
 * re-join with `since`, and their history read then comes after the subscription, as `rejoin`
 * requires, so the gap is recovered.
 */
export class SubscriberWatch {
  private subscribed = true;
  private stopped = false;

  constructor(sub: RedisClient, sockets: () => Iterable<GatewaySocket>) {
    sub.on('close', () => {
      if (this.stopped) return;
      const was = this.subscribed;
      this.subscribed = false;
      let closed = 0;
      for (const socket of sockets()) {
        socket.conn.close();
        closed++;
      }
      if (was) log.warn({ sockets: closed }, 'adapter subscriber lost: closed client connections; refusing new ones until it is back');
    });
    sub.on('ready', () => {
      // 'ready' comes before ioredis sends the subscriptions again; a PING queued after them is
      // answered once Redis has applied them. If it fails, the next 'ready' tries again.
      setImmediate(() => {
        sub.ping().then(
          () => {
            if (!this.subscribed) log.info('adapter subscriber back: accepting connections');
            this.subscribed = true;
          },
          () => undefined,
        );
      });
    });
  }

  /** Before the gateway closes the subscriber itself: that close is not a loss. */
  stop(): void {
    this.stopped = true;
  }

  /** False from the loss of the subscriber connection until its subscriptions are back. */
  get receiving(): boolean {
    return this.subscribed;
  }
}
