import { userOf } from '../auth/user';
import type { Config } from '../config';
import { GatewayError, type ErrorCode } from '../errors';
import type { Admission } from '../limits/admission';
import { MemoryTokenBucket } from '../limits/memory-bucket';
import { exceedsSize } from '../limits/payload-size';
import { logger } from '../logger';
import type { GatewayAccess } from './access';
import type { GatewaySocket } from './socket-types';
import { DISCONNECT_REASON_EVENT } from './system-events';

const log = logger('gateway');

/** Sockets the guard disconnected for flooding, so their disconnect can say so (metrics). */
const flooders = new WeakSet<object>();

/** True if the guard disconnected this socket for flooding (socket.io says `server namespace disconnect`). */
export function disconnectedForFlooding(socket: object): boolean {
  return flooders.has(socket);
}

type GuardConfig = Pick<
  Config,
  'MAX_PAYLOAD_BYTES' | 'RATE_SOCKET_BURST' | 'RATE_SOCKET_PER_SEC' | 'RATE_FLOOD_DISCONNECT_AFTER'
>;

/**
 * The per-packet guard (run by bindActions before any action): every packet a client sends takes a token from the
 * socket's bucket (SINCE_JOIN_COST tokens for a join with `since`, which makes the gateway read
 * and send history) and from its user's bucket (shared across gateways), and must fit in
 * MAX_PAYLOAD_BYTES. A refused packet never reaches its handler; if it carries an ack, the ack
 * gets `rate_limited` (with retryAfterMs) or `payload_too_large`. A socket that keeps being
 * refused (more than RATE_FLOOD_DISCONNECT_AFTER refusals within about ten seconds) is told why
 * and disconnected.
 */
export function eventGuard(
  socket: GatewaySocket,
  access: Pick<GatewayAccess, 'userBuckets'>,
  config: GuardConfig,
) {
  const socketBucket = new MemoryTokenBucket({
    burst: config.RATE_SOCKET_BURST,
    perSec: config.RATE_SOCKET_PER_SEC,
  });
  const strikes = new MemoryTokenBucket({
    burst: config.RATE_FLOOD_DISCONNECT_AFTER,
    perSec: Math.max(1, config.RATE_FLOOD_DISCONNECT_AFTER / 10),
  });
  const user = userOf(socket);

  const refuse = (packet: unknown[], error: GatewayError, refused?: (code: ErrorCode) => void) => {
    refused?.(error.code);
    const ack = packet[packet.length - 1];
    if (typeof ack === 'function')
      (ack as (res: unknown) => void)({ ok: false, error: error.toJSON() });
    if (!strikes.take().allowed && socket.connected) {
      log.warn({ socket: socket.id, user: user.id }, 'disconnecting a flooding socket');
      socket.emit(
        DISCONNECT_REASON_EVENT,
        new GatewayError('rate_limited', 'disconnected: too many refused requests').toJSON(),
      );
      flooders.add(socket);
      socket.disconnect(true);
    }
  };

  return (packet: unknown[], next: () => void, refused?: (code: ErrorCode) => void): void => {
    const local = socketBucket.take(Date.now(), costOf(packet));
    if (!local.allowed) {
      refuse(packet, limited(local), refused);
      return;
    }
    if (exceedsSize(packet.slice(1), config.MAX_PAYLOAD_BYTES)) {
      refuse(
        packet,
        new GatewayError(
          'payload_too_large',
          `message larger than ${config.MAX_PAYLOAD_BYTES} bytes`,
        ),
        refused,
      );
      return;
    }
    if (user.anonymous) {
      next();
      return;
    }
    access.userBuckets.take(user.id).then(
      (shared) => {
        if (shared.allowed) next();
        else refuse(packet, limited(shared), refused);
      },
      // take() admits when Redis is away; should it ever reject, answer with a typed error, not silence.
      (err: unknown) =>
        refuse(
          packet,
          new GatewayError('unavailable', `rate limiter unavailable: ${(err as Error).message}`),
          refused,
        ),
    );
  };
}

/**
 * Tokens of the socket's bucket a join with `since` takes: a replay reads and sends up to a whole
 * history, so a client cannot re-join in a loop at the rate of plain packets. A reconnecting
 * client's re-joins past its burst are answered `rate_limited` with retryAfterMs, and the client
 * library sends them again then.
 */
export const SINCE_JOIN_COST = 5;

function costOf(packet: unknown[]): number {
  const args = packet[1];
  return typeof args === 'object' &&
    args !== null &&
    typeof (args as { since?: unknown }).since === 'string'
    ? SINCE_JOIN_COST
    : 1;
}

function limited(admission: Admission): GatewayError {
  return new GatewayError(
    'rate_limited',
    `too many requests; retry in ${admission.retryAfterMs} ms`,
    {
      retryAfterMs: admission.retryAfterMs,
    },
  );
}
