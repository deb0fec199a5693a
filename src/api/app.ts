import express, { type Express } from 'express';
import { consoleRoutes } from '../console/routes';
import { RedisTokenBuckets } from '../limits/redis-buckets';
import type { Runtime } from '../runtime';
import { requireBearer } from './bearer';
import { compileTrustProxy } from '../origins/client-address';
import { cors } from './cors';
import { originPolicy } from '../origins/origin-policy';
import { errorResponder, notFound } from './http-errors';
import { countRequests, opsRoutes, type OpsHooks } from './monitoring';
import { httpRateLimit, httpSubjectOf, rateLimitByToken } from './rate-limit';
import { adminRoutes } from './routes/admin';
import { adminUserRoutes } from './routes/admin-users';
import { dashboardRoutes } from './routes/dashboards';
import { domainRoutes } from './routes/domain';
import { publishRoutes } from './routes/publish';
import { roomRoutes } from './routes/rooms';
import { publishBatchRoutes } from './routes/publish-batch';
import { specRoutes, type ApiDocuments } from './routes/specs';

/**
 * The HTTP side of a gateway: JSON API under /api (service token), operator API under /admin
 * (ADMIN_TOKEN), both rate-limited per token or IP; health at /healthz; with `ops`, readiness at
 * /readyz and Prometheus metrics at /metrics (open: counts only, see docs/operating.md). The publish token on
 * /api (a trusted backend) has its own bucket instead (RATE_PUBLISH_*), or none when
 * RATE_PUBLISH_PER_SEC is 0. The OpenAPI and AsyncAPI documents are handed in (`documents`), so
 * this layer does not import the spec builders that describe it.
 */
export function createHttpApp(rt: Runtime, ops: OpsHooks, documents: ApiDocuments): Express {
  const app = express();
  app.disable('x-powered-by');
  // TRUST_PROXY: which proxies are believed about the client (X-Forwarded-For: req.ip, the rate
  // limit's subject; X-Forwarded-Proto: req.secure, the cookie's Secure and the AsyncAPI's wss).
  app.set('trust proxy', compileTrustProxy(rt.config.TRUST_PROXY));
  if (ops.metrics) {
    const metrics = ops.metrics;
    app.use(countRequests((...answered) => metrics.httpRequest(...answered)));
  }
  app.use(cors(originPolicy(rt.config)));
  // A verified token (publish, admin) has its own bucket; anything else is its client address's.
  const subject = httpSubjectOf([rt.config.PUBLISH_TOKEN, rt.config.ADMIN_TOKEN]);
  const limit = httpRateLimit(
    new RedisTokenBuckets(rt.redis, rt.keys, 'http', {
      burst: rt.config.RATE_HTTP_BURST,
      perSec: rt.config.RATE_HTTP_PER_SEC,
    }),
    subject,
  );
  const publishLimit =
    rt.config.RATE_PUBLISH_PER_SEC > 0
      ? httpRateLimit(
          new RedisTokenBuckets(rt.redis, rt.keys, 'publish', {
            burst: rt.config.RATE_PUBLISH_BURST,
            perSec: rt.config.RATE_PUBLISH_PER_SEC,
          }),
          subject,
        )
      : undefined;

  app.get('/healthz', async (_req, res) => {
    const redis =
      rt.redis.status === 'ready'
        ? await rt.redis.ping().then(
            () => 'ok',
            () => 'error',
          )
        : rt.redis.status;
    res.status(redis === 'ok' ? 200 : 503).json({ ok: redis === 'ok', redis });
  });
  app.use(opsRoutes(ops));

  // The OpenAPI and AsyncAPI documents: before /api's bearer check (they describe, they hold no data).
  app.use('/api', specRoutes(limit, documents));
  // Limit and authenticate before parsing, so an unauthenticated body is never read.
  app.use(
    '/api',
    rateLimitByToken(rt.config.PUBLISH_TOKEN, publishLimit, limit),
    requireBearer([rt.config.PUBLISH_TOKEN], 'the publish API'),
  );
  app.use('/admin', limit);
  // Before the global parser: the batch route parses its own, larger body (PUBLISH_BATCH_MAX_BYTES).
  app.use('/api', publishBatchRoutes(rt));
  app.use(express.json({ limit: rt.config.MAX_PAYLOAD_BYTES }));
  app.use('/api', domainRoutes(rt, ops.membership), publishRoutes(rt), roomRoutes(rt));
  // Browser pages: dashboards (admin page sign-in) before the bearer-only JSON /admin API; the console.
  app.use(dashboardRoutes(rt));
  app.use(consoleRoutes());
  app.use('/admin', adminUserRoutes(rt), adminRoutes(rt));
  app.use(notFound);
  app.use(errorResponder);
  return app;
}
