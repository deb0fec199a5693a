import { Router, type RequestHandler } from 'express';

type Json = Record<string, unknown>;

/** The two documents, built by src/specs/ and handed in by the composition root (src/app/). */
export interface ApiDocuments {
  openapi(): Json;
  asyncapi(): Json;
}

/**
 * `GET /api/openapi.json` and `GET /api/asyncapi.json`: the HTTP and socket APIs, generated from
 * the code on first request (src/specs/). Served without a token (mounted before /api's bearer
 * check): they describe the API and hold no data. The AsyncAPI server is the host the document was
 * fetched from, `wss` when it was fetched over HTTPS (to this gateway, or to a proxy TRUST_PROXY
 * trusts: its X-Forwarded-Proto), else `ws`.
 */
export function specRoutes(limit: RequestHandler, documents: ApiDocuments): Router {
  const r = Router();
  let openapi: Json | undefined;
  let asyncapi: Json | undefined;
  r.get('/openapi.json', limit, (_req, res) => {
    res.json((openapi ??= documents.openapi()));
  });
  r.get('/asyncapi.json', limit, (req, res) => {
    asyncapi ??= documents.asyncapi();
    const server = (asyncapi.servers as { gateway: Json }).gateway;
    const gateway = {
      ...server,
      host: req.get('host') ?? server.host,
      protocol: req.secure ? 'wss' : 'ws',
    };
    res.json({ ...asyncapi, servers: { gateway } });
  });
  return r;
}
