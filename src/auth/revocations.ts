import type { RedisClient } from '../redis/connections';
import type { Keys } from '../redis/keys';
import { GatewayError } from '../errors';
import type { VerifiedToken } from './tokens';

/**
 * Token revocation per user, shared by every gateway through Redis: after `revoke(user)`, that
 * user's tokens issued before then are refused at the handshake and by `refresh_token`, for
 * TOKEN_REVOCATION_TTL_S. `iat` has a one-second grain: a token issued in the second of the
 * revocation is still accepted, so a fresh token minted right after a revocation works. A token
 * without `iat` is refused while a revocation of its user stands. Connected sockets keep going
 * until their token expires (then they cannot refresh).
 */
export class Revocations {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly ttlSeconds: number,
  ) {}

  /** Refuses the user's tokens issued before now; answers that instant (whole seconds, in ms). */
  async revoke(userId: string, now = Date.now()): Promise<number> {
    const before = Math.floor(now / 1000) * 1000;
    await this.redis.set(
      this.keys.tokensRevokedBefore(userId),
      String(before),
      'EX',
      this.ttlSeconds,
    );
    return before;
  }

  /** Throws `unauthorized` when the token was issued before its user's revocation. */
  async check({ user, issuedAt }: VerifiedToken): Promise<void> {
    if (user.anonymous) return;
    let stored: string | null;
    try {
      stored = await this.redis.get(this.keys.tokensRevokedBefore(user.id));
    } catch (err) {
      // Not a refusal of the token: the client retries the handshake when Redis is back.
      throw new GatewayError('unavailable', 'cannot check the token: Redis is not answering', {
        cause: err,
      });
    }
    if (stored === null) return;
    if (issuedAt === undefined || issuedAt < Number(stored))
      throw new GatewayError('unauthorized', 'token revoked: sign in again');
  }
}
