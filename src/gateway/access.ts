import { DefaultRoomAuthorizer, type RoomAuthorizer } from '../auth/room-authorizer';
import { TokenExpiry } from './token-expiry';
import { Revocations } from '../auth/revocations';
import { TokenVerifier } from '../auth/tokens';
import { RedisTokenBuckets } from '../limits/redis-buckets';
import { logger } from '../logger';
import { Presence } from '../presence/presence';
import type { Runtime } from '../runtime';

const log = logger('gateway');

/** Identity, authorization, presence and per-user limits of one gateway process. */
export interface GatewayAccess {
  readonly verifier: TokenVerifier;
  /** Each signed-in socket's token deadline (disconnect past exp + TOKEN_EXPIRY_GRACE_MS). */
  readonly expiry: TokenExpiry;
  /** Users' token revocations, in Redis (every gateway refuses the same tokens). */
  readonly revocations: Revocations;
  readonly rooms: RoomAuthorizer;
  readonly presence: Presence;
  /** Per-user token buckets shared by every gateway. */
  readonly userBuckets: RedisTokenBuckets;
  close(): Promise<void>;
}

/** Builds the access layer on the runtime's Redis and takes this gateway's first presence lease. */
export async function openAccess(
  rt: Pick<Runtime, 'config' | 'events' | 'keys' | 'redis'>,
  rooms: RoomAuthorizer = new DefaultRoomAuthorizer(rt),
): Promise<GatewayAccess> {
  const c = rt.config;
  const publishing = new Set<Promise<unknown>>();
  const presence = new Presence({
    redis: rt.redis,
    keys: rt.keys,
    heartbeatMs: c.PRESENCE_HEARTBEAT_MS,
    ttlMs: c.PRESENCE_TTL_MS,
    // Through the queue like every server event, so clients get a meta.id to de-duplicate on.
    onTransition: (userId, status) => {
      const p = rt.events.emit('user_status_changed', { userId, status }).catch((err: unknown) => {
        log.warn(
          { userId, status, err: (err as Error).message },
          'user_status_changed not published',
        );
      });
      publishing.add(p);
      void p.finally(() => publishing.delete(p));
    },
  });
  await presence.start();
  return {
    verifier: new TokenVerifier(c),
    expiry: new TokenExpiry(c.TOKEN_EXPIRY_GRACE_MS),
    revocations: new Revocations(rt.redis, rt.keys, c.TOKEN_REVOCATION_TTL_S),
    rooms,
    presence,
    userBuckets: new RedisTokenBuckets(rt.redis, rt.keys, 'user', {
      burst: c.RATE_USER_BURST,
      perSec: c.RATE_USER_PER_SEC,
    }),
    async close() {
      await presence.close();
      await Promise.allSettled([...publishing]);
    },
  };
}
