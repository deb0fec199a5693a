import type { Redis } from 'ioredis';
import type { Socket } from 'socket.io';
import type { Adapter } from 'socket.io-adapter';
import { RoomHistory } from '../history/room-history';
import { logger } from '../logger';
import type { Runtime } from '../runtime';

const log = logger('recovery');

type AdapterFactory = (nsp: any) => Adapter; // eslint-disable-line @typescript-eslint/no-explicit-any
type Apply = (opts: unknown, callback: (socket: Socket) => void) => void;

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
  private readonly held = new Map<string, Array<() => void>>();
  private readonly history: RoomHistory;

  constructor(rt: Pick<Runtime, 'redis' | 'keys'>) {
    this.history = new RoomHistory(rt.redis, rt.keys);
  }

  /** Wraps an adapter factory so broadcasts to a catching-up socket wait for its catch-up. */
  adapter(factory: AdapterFactory): AdapterFactory {
    const held = this.held;
    // socket.io calls the factory with `new`, so it must be a function, not an arrow.
    return function recoveringAdapter(nsp: unknown) {
      const adapter = factory(nsp);
      // `apply` is where every broadcast (local or from Redis) reaches each socket. It is marked
      // private in socket.io-adapter's typings; test/e2e/recovery.test.ts fails if that changes.
      const target = adapter as unknown as { apply: Apply };
      const apply = target.apply.bind(adapter);
      target.apply = (opts, callback) =>
        apply(opts, (socket) => {
          const queue = held.get(socket.id);
          if (queue) queue.push(() => callback(socket));
          else callback(socket);
        });
      return adapter;
    };
  }

  /**
   * Joins `room` and replays what the socket missed since `offset`. If the history no longer
   * covers the gap, emits `recovery_incomplete { room }` instead (the client refetches its state).
   */
  async rejoin(socket: Socket, room: string, offset: string): Promise<{ room: string; recovered: number; incomplete?: true }> {
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
      for (const { event, data, meta } of catchup.events) socket.emit(event, data, meta);
      return { room, recovered: catchup.events.length };
    } finally {
      this.release(socket.id);
    }
  }

  /** Re-joins on one socket run one after another, so each keeps the hold for its own catch-up. */
  private async afterCurrent(socket: Socket, room: string, offset: string) {
    await new Promise<void>((resolve) => this.held.get(socket.id)?.push(resolve) ?? resolve());
    return this.rejoin(socket, room, offset);
  }

  private release(socketId: string): void {
    const queue = this.held.get(socketId);
    this.held.delete(socketId);
    for (const send of queue ?? []) send();
  }
}

/**
 * Whether this gateway receives the adapter's broadcasts. Those published while its subscriber
 * connection is down (Redis restarted, or only this connection dropped) never reach its sockets,
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

  constructor(sub: Redis, sockets: () => Iterable<Socket>) {
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
