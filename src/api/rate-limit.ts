import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { GatewayError } from '../errors';
import type { RedisTokenBuckets } from '../limits/redis-buckets';
import { safeEqual } from '../auth/safe-equal';
import { addressSubject } from '../origins/client-address';

/** The token of an `Authorization: Bearer <token>` header, if the request presents one. */
function presentedToken(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * Who an HTTP request is charged to: a token it presents that is one of `knownTokens` (compared in
 * constant time; hashed, since a secret never becomes a Redis key) has a bucket of its own; every
 * other request, with a wrong token, a Basic header or none, is charged to its client's address:
 * `req.ip`, the address TRUST_PROXY believes (the TCP peer unless a trusted proxy forwarded it).
 * Never the presented token itself: a fresh random token per request would be a fresh bucket, and
 * guessing a token unlimited.
 */
export function httpSubjectOf(
  knownTokens: readonly (string | undefined)[],
): (req: Request) => string {
  const known = knownTokens.filter((t): t is string => typeof t === 'string' && t.length > 0);
  return (req) => {
    const token = presentedToken(req);
    // Every known token is compared, match or not, so timing does not tell which one matched.
    const verified = token !== undefined && known.map((t) => safeEqual(token, t)).includes(true);
    if (!verified) return addressSubject(req.ip);
    return createHash('sha256').update(`token:${token}`).digest('hex').slice(0, 32);
  };
}

/**
 * Rate-limits requests per subject with token buckets shared by every gateway: 429
 * `rate_limited` with `retryAfterMs` (and a Retry-After header) once a subject's bucket is empty.
 * Mount it in front of any router, e.g. `app.use('/admin', httpRateLimit(buckets, httpSubjectOf(tokens)), adminRoutes)`.
 */
export function httpRateLimit(
  buckets: RedisTokenBuckets,
  subjectOf: (req: Request) => string,
): RequestHandler {
  return (req, _res, next) => {
    buckets.take(subjectOf(req)).then((admission) => {
      if (admission.allowed) return next();
      next(
        new GatewayError(
          'rate_limited',
          `too many requests; retry in ${admission.retryAfterMs} ms`,
          { retryAfterMs: admission.retryAfterMs },
        ),
      );
    }, next);
  };
}

/**
 * Routes each request to one of two limiters by the token it presents: one presenting
 * `trustedToken` (compared in constant time) goes through `trusted`, or is not limited at all
 * when `trusted` is undefined; every other request (another token, none) goes through `others`.
 * E.g. `app.use('/api', rateLimitByToken(config.PUBLISH_TOKEN, undefined, httpRateLimit(buckets, subject)))`.
 */
export function rateLimitByToken(
  trustedToken: string,
  trusted: RequestHandler | undefined,
  others: RequestHandler,
): RequestHandler {
  return (req, res, next) => {
    const token = presentedToken(req);
    if (token === undefined || !safeEqual(token, trustedToken)) return others(req, res, next);
    if (trusted) return trusted(req, res, next);
    next();
  };
}
