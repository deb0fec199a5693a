import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { GatewayError } from '../errors';
import type { RedisTokenBuckets } from '../limits/redis-buckets';
import { safeEqual } from './bearer';

/** The token of an `Authorization: Bearer <token>` header, if the request presents one. */
function presentedToken(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * Who an HTTP request is charged to: the bearer token it presents (hashed: a secret never
 * becomes a Redis key), or its client's address when it presents none: `req.ip`, which is the
 * address TRUST_PROXY believes (the TCP peer unless a trusted proxy forwarded the request).
 */
export function httpSubject(req: Request): string {
  const token = presentedToken(req);
  if (token === undefined) return addressSubject(req.ip);
  return createHash('sha256').update(`token:${token}`).digest('hex').slice(0, 32);
}

/**
 * The bucket of a caller without a token, by its client's address: the same subject for a request
 * and for a socket handshake (the Admin UI's sign-in) from one client.
 */
export function addressSubject(address: string | undefined): string {
  return createHash('sha256')
    .update(`ip:${address ?? 'unknown'}`)
    .digest('hex')
    .slice(0, 32);
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

/**
 * Routes each request to one of two limiters by the token it presents: one presenting
 * `trustedToken` (compared in constant time) goes through `trusted`, or is not limited at all
 * when `trusted` is undefined; every other request (another token, none) goes through `others`.
 * E.g. `app.use('/api', rateLimitByToken(config.PUBLISH_TOKEN, undefined, httpRateLimit(buckets)))`.
 */
export function rateLimitByToken(trustedToken: string, trusted: RequestHandler | undefined, others: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const token = presentedToken(req);
    if (token === undefined || !safeEqual(token, trustedToken)) return others(req, res, next);
    if (trusted) return trusted(req, res, next);
    next();
  };
}
