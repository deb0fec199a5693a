import type { RequestHandler } from 'express';

/** CORS_ORIGINS parsed: a list of exact origins, or `*` for any. */
export function parseOrigins(raw: string): readonly string[] {
  return raw
    .split(',')
    .map((o) => o.trim().replace(/\/$/, ''))
    .filter((o) => o.length > 0);
}

/**
 * Whether a request from `origin` may proceed. Requests without an Origin header come from
 * non-browser clients (services, socket.io-client in Node) and are not a CORS matter.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes('*') || allowed.includes(origin);
}

/** Answers preflights and sets Access-Control-Allow-Origin for allowed browser origins only. */
export function cors(allowed: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && originAllowed(origin, allowed)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, idempotency-key');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.vary('Origin');
    if (req.method === 'OPTIONS') {
      res.status(origin !== undefined && originAllowed(origin, allowed) ? 204 : 403).end();
      return;
    }
    next();
  };
}
