import type { RequestHandler } from 'express';
import { logRefusal, type OriginPolicy } from '../origins/origin-policy';

/**
 * Answers preflights and sets Access-Control-Allow-Origin for allowed browser origins only (by
 * `originPolicy`, like socket handshakes). A refused preflight gets 403
 * `{ error: { code: 'origin_not_allowed', message } }` saying which setting admits the origin.
 */
export function cors(policy: OriginPolicy): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    const verdict = policy(origin, req.headers.host);
    if (origin !== undefined && verdict.allowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, idempotency-key');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.vary('Origin');
    if (req.method === 'OPTIONS') {
      if (origin !== undefined && verdict.allowed) {
        res.status(204).end();
        return;
      }
      const message =
        origin === undefined ? 'a preflight (OPTIONS) needs an Origin header' : verdict.why;
      if (origin !== undefined) logRefusal('API preflight', verdict, origin, req.headers.host);
      res.status(403).json({ error: { code: 'origin_not_allowed', message } });
      return;
    }
    next();
  };
}
