import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { GatewayError } from '../errors';
import type { RedisTokenBuckets } from '../limits/redis-buckets';

/**
 * Who an HTTP request is charged to: the bearer token it presents (hashed: a secret never
 * becomes a Redis key), or its IP address when it presents none.
 */
export function httpSubject(req: Request): string {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const raw = match ? `token:${match[1]}` : `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
  return createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

/**
 * Rate-limits requests per subject with token buckets shared by every gateway: 429
 * `rate_limited` with `retryAfterMs` (and a Retry-After header) once a subject's bucket is empty.
 * Mount it in front of any router, e.g. `app.use('/admin', httpRateLimit(buckets), adminRoutes)`.
 */
export function httpRateLimit(buckets: RedisTokenBuckets, subjectOf: (req: Request) => string = httpSubject): RequestHandler {
  return (req, _res, next) => {
    buckets.take(subjectOf(req)).then((admission) => {
      if (admission.allowed) return next();
      next(new GatewayError('rate_limited', `too many requests; retry in ${admission.retryAfterMs} ms`, { retryAfterMs: admission.retryAfterMs }));
    }, next);
  };
}
