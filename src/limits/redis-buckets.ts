import type { RedisClient } from '../redis/connections';
import { logger } from '../logger';
import type { Keys } from '../redis/keys';
import { defineLuaScripts, type ScriptCall } from '../redis/lua';
import { ALLOWED, type Admission, type BucketSpec } from './admission';

const log = logger('rate-limit');

/**
 * Token buckets shared by every gateway (per user, per HTTP token or IP): one atomic script call
 * per request. If Redis cannot answer, the request is admitted (logged): the per-socket bucket
 * still bounds a client, and a rate limiter must not turn a Redis blip into an outage.
 */
export class RedisTokenBuckets {
  private readonly tokenBucket: ScriptCall;

  constructor(
    redis: RedisClient,
    private readonly keys: Pick<Keys, 'rateBucket'>,
    /** What the subjects are (`user`, `http`): part of the key, so kinds never share a bucket. */
    private readonly kind: string,
    private readonly spec: BucketSpec,
  ) {
    // src/limits/lua/token-bucket-1.lua
    this.tokenBucket = defineLuaScripts(redis, __dirname, {
      sbTokenBucket: 'token-bucket-1.lua',
    }).sbTokenBucket;
  }

  async take(subject: string): Promise<Admission> {
    try {
      const [allowed, retryAfterMs] = (await this.tokenBucket(
        this.keys.rateBucket(this.kind, subject),
        this.spec.burst,
        this.spec.perSec,
      )) as [number, number];
      return allowed === 1 ? ALLOWED : { allowed: false, retryAfterMs };
    } catch (err) {
      log.warn({ subject, err: (err as Error).message }, 'rate limit store unavailable; admitting');
      return ALLOWED;
    }
  }
}
