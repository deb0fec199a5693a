import type { RedisClient } from '../redis/connections';
import { logger } from '../logger';
import type { Keys } from '../redis/keys';
import { ALLOWED, type Admission, type BucketSpec } from './admission';

const log = logger('rate-limit');

/**
 * token-bucket-1
 * KEYS[1]  the bucket hash (fields `t` tokens, `ts` last update in ms)
 * ARGV[1]  burst (capacity), ARGV[2] refill tokens per second
 * Returns  { allowed (1|0), retryAfterMs }
 * Uses the Redis clock so gateways with skewed clocks share one bucket fairly. The key expires
 * once the bucket would be full again, so idle subjects cost no memory.
 */
const TOKEN_BUCKET_LUA = `
local burst = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2]) / 1000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * perMs)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / perMs) + 1000)
return { allowed, retry }
`;

type WithBucket = RedisClient & { sbTokenBucket(key: string, burst: number, perSec: number): Promise<[number, number]> };

/**
 * Token buckets shared by every gateway (per user, per HTTP token or IP): one atomic script call
 * per request. If Redis cannot answer, the request is admitted (logged): the per-socket bucket
 * still bounds a client, and a rate limiter must not turn a Redis blip into an outage.
 */
export class RedisTokenBuckets {
  private readonly redis: WithBucket;

  constructor(
    redis: RedisClient,
    private readonly keys: Pick<Keys, 'rateBucket'>,
    /** What the subjects are (`user`, `http`): part of the key, so kinds never share a bucket. */
    private readonly kind: string,
    private readonly spec: BucketSpec,
  ) {
    redis.defineCommand('sbTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    this.redis = redis as WithBucket;
  }

  async take(subject: string): Promise<Admission> {
    try {
      const [allowed, retryAfterMs] = await this.redis.sbTokenBucket(this.keys.rateBucket(this.kind, subject), this.spec.burst, this.spec.perSec);
      return allowed === 1 ? ALLOWED : { allowed: false, retryAfterMs };
    } catch (err) {
      log.warn({ subject, err: (err as Error).message }, 'rate limit store unavailable; admitting');
      return ALLOWED;
    }
  }
}
