import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readiness } from '../health/readiness';
import { logger } from '../logger';

const log = logger('metrics');

export interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
}

export interface MetricsServerOptions {
  host: string;
  /** `0`: any free port (see `port` of the result). */
  port: number;
  metrics: MetricsSource;
  ready: () => Promise<Readiness>;
}

export interface MetricsServer {
  readonly http: Server;
  /** The port actually bound. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The HTTP side of a process that has no HTTP API (a worker): `GET /metrics` (Prometheus text
 * format), `GET /readyz` (200 or 503 with the checks) and `GET /healthz` (liveness: 200 while the
 * process runs). Nothing else; no request body is read.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return json(405, { error: { code: 'invalid_argument', message: 'GET only' } });
    if (path === '/metrics') {
      opts.metrics.text().then(
        (text) => {
          res.writeHead(200, {
            'content-type': opts.metrics.contentType,
            'cache-control': 'no-store',
          });
          res.end(text);
        },
        (err: unknown) => {
          log.error({ err: (err as Error).message }, 'metrics collection failed');
          json(500, { error: { code: 'internal', message: 'metrics collection failed' } });
        },
      );
      return;
    }
    if (path === '/readyz') {
      opts.ready().then(
        (r) => json(r.ok ? 200 : 503, r),
        (err: unknown) =>
          json(503, { ok: false, checks: { process: 'error' }, error: (err as Error).message }),
      );
      return;
    }
    if (path === '/healthz') return json(200, { ok: true });
    json(404, { error: { code: 'not_found', message: `no route ${req.method} ${path}` } });
  });
  http.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  return {
    http,
    port: (http.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
