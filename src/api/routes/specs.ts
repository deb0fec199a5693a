import { Router, type RequestHandler } from 'express';
import { buildAsyncApi } from '../../specs/asyncapi';
import { buildOpenApi } from '../../specs/openapi';
import type { Json } from '../../specs/json-schema';

/**
 * `GET /api/openapi.json` and `GET /api/asyncapi.json`: the HTTP and socket APIs, generated from
 * the code on first request (src/specs/). Served without a token (mounted before /api's bearer
 * check): they describe the API and hold no data. The AsyncAPI server is the host the document was
 * fetched from, `wss` when it was fetched over HTTPS (to this gateway, or to a proxy TRUST_PROXY
 * trusts: its X-Forwarded-Proto), else `ws`.
 */
export function specRoutes(limit: RequestHandler): Router {
  const r = Router();
  let openapi: Json | undefined;
  let asyncapi: Json | undefined;
  r.get('/openapi.json', limit, (_req, res) => {
    res.json((openapi ??= buildOpenApi()));
  });
  r.get('/asyncapi.json', limit, (req, res) => {
    asyncapi ??= buildAsyncApi();
    const server = (asyncapi.servers as { gateway: Json }).gateway;
    const gateway = { ...server, host: req.get('host') ?? server.host, protocol: req.secure ? 'wss' : 'ws' };
    res.json({ ...asyncapi, servers: { gateway } });
  });
  return r;
}
