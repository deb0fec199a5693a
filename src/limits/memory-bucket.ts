import type { Admission, BucketSpec } from './admission';

/**
 * One in-process token bucket (e.g. per socket: it lives and dies with the socket, so no map
 * and no sweeping are needed). Starts full.
 */
export class MemoryTokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly spec: BucketSpec,
    now: number = Date.now(),
  ) {
    this.tokens = spec.burst;
    this.updatedAt = now;
  }

  /** Takes `cost` tokens (1 by default; more for a request that costs the gateway more), or none. */
  take(now: number = Date.now(), cost = 1): Admission {
    const perMs = this.spec.perSec / 1000;
    this.tokens = Math.min(
      this.spec.burst,
      this.tokens + Math.max(0, now - this.updatedAt) * perMs,
    );
    this.updatedAt = now;
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil((cost - this.tokens) / perMs) };
  }
}
