import type { RedisClient } from '../redis/connections';
import { logger } from '../logger';
import type { GatewaySocket } from './socket-types';

const log = logger('recovery');

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
      if (was)
        log.warn(
          { sockets: closed },
          'adapter subscriber lost: closed client connections; refusing new ones until it is back',
        );
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
