/** The answer of every admission check: rate limits return this rather than throwing. */
export interface Admission {
  allowed: boolean;
  /** 0 when allowed; otherwise how long until the request would be admitted. */
  retryAfterMs: number;
}

/** A token bucket: holds up to `burst` tokens, refilled at `perSec` tokens a second; each request takes one. */
export interface BucketSpec {
  burst: number;
  perSec: number;
}

export const ALLOWED: Admission = Object.freeze({ allowed: true, retryAfterMs: 0 });
