import { logger } from '../logger';
import type { ErrorBody } from '../error-body';
import { DISCONNECT_REASON_EVENT } from '../wire/protocol';
import type { GatewaySocket } from './socket-types';

const log = logger('token-expiry');

/** What `disconnect_reason` says when a token ran out: `reason` is the machine-readable part. */
export const TOKEN_EXPIRED: ErrorBody & { reason: string } = {
  code: 'unauthorized',
  message:
    'token expired: connect again with a fresh token, or send refresh_token before it expires',
  reason: 'token_expired',
};

/** setTimeout's longest delay; a later deadline is reached in steps. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * Disconnects a socket once its token's `exp` has passed by TOKEN_EXPIRY_GRACE_MS, unless a
 * `refresh_token` moved the deadline first (`watch` again). One timer per socket, cleared on
 * disconnect. It disconnects the namespace's socket, not the connection: the client reconnects that
 * namespace with a fresh token.
 */
export class TokenExpiry {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly graceMs: number) {}

  /** Sets (or moves) the socket's deadline to `expiresAt` + the grace. */
  watch(socket: GatewaySocket, expiresAt: number): void {
    const known = this.timers.has(socket.id);
    this.clear(socket.id);
    if (!known) socket.once('disconnect', () => this.clear(socket.id));
    this.arm(socket, expiresAt + this.graceMs);
  }

  /** Sockets with a deadline (for tests and metrics). */
  get watched(): number {
    return this.timers.size;
  }

  private arm(socket: GatewaySocket, deadline: number): void {
    const delay = Math.max(0, deadline - Date.now());
    const timer = setTimeout(
      () => {
        if (Date.now() < deadline) {
          this.arm(socket, deadline);
          return;
        }
        this.timers.delete(socket.id);
        if (!socket.connected) return;
        log.info({ socket: socket.id, ns: socket.nsp.name }, 'disconnecting: token expired');
        socket.emit(DISCONNECT_REASON_EVENT, TOKEN_EXPIRED);
        socket.disconnect();
      },
      Math.min(delay, MAX_DELAY_MS),
    );
    timer.unref();
    this.timers.set(socket.id, timer);
  }

  private clear(id: string): void {
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
  }
}
