import { safeEqual } from '../auth/safe-equal';
import type { RequestHandler } from 'express';
import { GatewayError } from '../errors';

/**
 * Requires `Authorization: Bearer <token>` matching one of `tokens` (401 `unauthorized` otherwise).
 * With no tokens configured every request is refused, so a missing secret never opens a route.
 */
export function requireBearer(
  tokens: readonly (string | undefined)[],
  realm: string,
): RequestHandler {
  const expected = tokens.filter((t): t is string => typeof t === 'string' && t.length > 0);
  return (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    // Every expected token is compared, match or not, so timing does not tell which one matched.
    const ok =
      match !== null && expected.map((t) => safeEqual(match[1] as string, t)).includes(true);
    if (ok) next();
    else
      next(
        new GatewayError(
          'unauthorized',
          expected.length === 0
            ? `${realm} is disabled: no token configured`
            : `${realm} needs a valid bearer token`,
        ),
      );
  };
}
