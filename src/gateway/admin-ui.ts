import type { IncomingMessage } from 'node:http';
import { instrument } from '@socket.io/admin-ui';
import type { Server, Socket } from 'socket.io';
import { clientAddress, compileTrustProxy } from '../origins/client-address';
import { adminCredentialsOk, AdminSessions, sessionCookieOf } from '../admin/sessions';
import { addressSubject } from '../origins/client-address';
import { RedisTokenBuckets } from '../limits/redis-buckets';
import { logger } from '../logger';
import type { Runtime } from '../runtime';

const log = logger('admin-ui');

/** The namespace the Socket.IO Admin UI connects to (its default). No Switchboard namespace uses it. */
export const ADMIN_NAMESPACE = '/admin';

/** The refusal the Admin UI recognizes: it shows its sign-in form again with this message. */
const INVALID = 'invalid credentials';

export interface AdminUiHandle {
  close(): void;
}

/**
 * Instruments the socket.io server for the Socket.IO Admin UI (served at /admin/socket.io/), only
 * with ADMIN_UI=on (which config refuses without ADMIN_TOKEN):
 * - `mode: 'production'`: the UI gets server stats and aggregated counts (connections, packets,
 *   bytes), not every socket and event, so no per-socket proxies or per-event admin broadcasts;
 * - `readonly: true`: the UI cannot emit, join, leave or disconnect on Switchboard's namespaces
 *   (that would bypass the catalog and room authorization);
 * - its `/admin` namespace admits the UI's form login (user `admin`, password ADMIN_TOKEN,
 *   constant-time compare) or the /admin/login session cookie (sent with the same-origin
 *   handshake), each attempt charged to the caller's address (the client's under TRUST_PROXY, as
 *   `req.ip`) in the same bucket as /admin over HTTP.
 *   instrument's own `auth` is off (`false`) because this middleware replaces it: its basic auth
 *   wants a bcrypt hash and keeps sessions in process memory.
 * Cost while enabled: admin-ui counts every packet of every connection (three listeners per
 * engine connection, a counter update per packet) and broadcasts stats every 2 s.
 */
export function attachAdminUi(
  io: Server,
  rt: Pick<Runtime, 'config' | 'keys' | 'redis'>,
): AdminUiHandle | undefined {
  const token = rt.config.ADMIN_TOKEN;
  if (rt.config.ADMIN_UI !== 'on' || !token) return undefined;
  const sessions = new AdminSessions(rt.redis, rt.keys);
  const limiter = new RedisTokenBuckets(rt.redis, rt.keys, 'http', {
    burst: rt.config.RATE_HTTP_BURST,
    perSec: rt.config.RATE_HTTP_PER_SEC,
  });

  // The gateway drops each connection's upgrade request after the handshake (memory), so take the
  // session cookie first; only connections that carry one keep anything (weakly, per connection).
  // Likewise the client's address under TRUST_PROXY (X-Forwarded-For of a trusted proxy), kept
  // only where it differs from the TCP peer's (socket.handshake.address).
  const cookies = new WeakMap<object, string>();
  const trust = compileTrustProxy(rt.config.TRUST_PROXY);
  const forwardedFor = new WeakMap<object, string>();
  io.engine.prependListener(
    'connection',
    (conn: { request?: IncomingMessage | null; remoteAddress?: string }) => {
      const sessionId = sessionCookieOf(conn.request?.headers.cookie);
      if (sessionId !== undefined) cookies.set(conn, sessionId);
      const address =
        rt.config.TRUST_PROXY !== false && conn.request
          ? clientAddress(conn.request, trust)
          : undefined;
      if (address !== undefined && address !== conn.remoteAddress) forwardedFor.set(conn, address);
    },
  );

  // instrument() starts a 2 s stats timer it never stops; keep its handle so close() can.
  const timers: ReturnType<typeof setInterval>[] = [];
  const original = globalThis.setInterval;
  globalThis.setInterval = (...args: Parameters<typeof setInterval>) => {
    const timer = original(...args);
    timers.push(timer);
    return timer;
  };
  try {
    instrument(io, {
      auth: false,
      mode: 'production',
      readonly: true,
      namespaceName: ADMIN_NAMESPACE,
    });
  } finally {
    globalThis.setInterval = original;
  }

  io.of(ADMIN_NAMESPACE).use((socket: Socket, next: (err?: Error) => void) => {
    const auth = socket.handshake.auth as Record<string, unknown>;
    const { username, password } = auth;
    delete auth.password;
    const subject = addressSubject(forwardedFor.get(socket.conn) ?? socket.handshake.address);
    void (async () => {
      const admission = await limiter.take(subject);
      if (!admission.allowed)
        next(new Error(`too many attempts; retry in ${admission.retryAfterMs} ms`));
      else if (password !== undefined && adminCredentialsOk(token, username, password)) next();
      else if (await sessions.valid(cookies.get(socket.conn))) next();
      else next(new Error(INVALID));
    })().catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, 'admin namespace sign-in failed');
      next(new Error(INVALID));
    });
  });

  return {
    close() {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
