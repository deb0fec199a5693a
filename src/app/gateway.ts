import { createHttpApp } from '../api/app';
import { withHttpEdge } from '../api/http-edge';
import { isPublishRequest, withHotPublishRoutes } from '../api/hot-routes';
import type { Config } from '../config';
import { startGateway, type Gateway } from '../gateway/server';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { openRuntime } from './runtime';
import { buildAsyncApi } from '../specs/asyncapi';
import { buildOpenApi } from '../specs/openapi';

/**
 * A gateway process as deployed: the socket server (src/gateway/) with the HTTP app (src/api/) on
 * its port, and the API documents (src/specs/) that app serves. The one place the three meet, so
 * none of them imports another's layer.
 */
export async function openGateway(config: Config): Promise<Gateway> {
  const metrics = new GatewayMetrics();
  const runtime = await openRuntime(config, {
    onAccepted: (event) => metrics.eventAccepted(event),
  });
  // Its command connection (accepts, the HTTP API, readiness); the adapter's two are server.ts's own.
  metrics.watchRedis(runtime.redis, 'command');
  return startGateway(config, {
    runtime,
    metrics,
    // The two publish routes skip express when nothing but the publish itself has to happen; the
    // edge (security headers, request id, access log) is in front of both.
    httpApp: (rt, hooks) =>
      withHttpEdge(
        withHotPublishRoutes(
          createHttpApp(rt, hooks, { openapi: buildOpenApi, asyncapi: buildAsyncApi }),
          rt,
          hooks,
        ),
        isPublishRequest,
      ),
  });
}
