import type { IncomingMessage, RequestListener } from 'node:http';
import { accessLog, publishAccessLog } from './access-log';
import { securityHeaders } from './security-headers';

/**
 * What every request on the gateway's HTTP port gets before anything answers it: helmet's security
 * headers, its request id (`X-Request-Id`, see access-log.ts) and its access log line. In front of
 * the publish hot path (hot-routes.ts) as well as express, so both get the same, with one pino-http
 * instance. Socket.IO's own requests (`/socket.io/`) are answered by engine.io before this.
 *
 * @example createServer(withHttpEdge(withHotPublishRoutes(createHttpApp(rt, hooks, docs), rt, hooks)))
 */
export function withHttpEdge(
  app: RequestListener,
  isPublish: (req: IncomingMessage) => boolean = () => false,
): RequestListener {
  const headers = securityHeaders();
  const log = accessLog();
  // Publishes: the same line through the same logger, without pino-http's per-request cost.
  const logPublish = publishAccessLog(log);
  return (req, res) => {
    headers(res);
    if (isPublish(req)) logPublish(req, res);
    else log(req, res);
    app(req, res);
  };
}
