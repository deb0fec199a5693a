import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { probeResponses, type HttpOperation } from './operation';
import type { Readiness } from '../health/readiness';
import type { RoomMembership } from '../domain/chats';
import type { MetricsSource } from '../metrics/server';

/** What the gateway's HTTP app exposes for operations besides /healthz. */
export interface OpsHooks {
  /**
   * Served at `GET /metrics`; also counts and times every request
   * (`switchboard_http_requests_total`, `switchboard_http_request_duration_seconds`).
   */
  metrics?: MetricsSource & { httpRequest: RequestCount };
  /** Served at `GET /readyz`: 200 when every check is `ok`, else 503. */
  ready?: () => Promise<Readiness>;
  /** Who is in which room on every gateway (the gateway's adapter): member-list changes remove non-members. */
  membership?: RoomMembership;
}

/** One answered request: its route pattern, status, method and seconds from arrival to answer. */
export type RequestCount = (route: string, status: number, method: string, seconds: number) => void;

/** Label of a request that no express route answered (auth refusals, rate limits, 404s). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts and times each answered request under the express route pattern that handled it, with
 * its mount path (`/api/orders/:id/status`), never the raw URL. The router sets `req.route` while
 * the request is under its mount path, but restores `req.baseUrl` when an error leaves the router,
 * so the mount path is taken at the moment the route is set.
 */
export function countRequests(count: RequestCount): RequestHandler {
  return (req, res, next) => {
    const start = performance.now();
    let route: { path?: unknown } | undefined;
    let base = '';
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => route,
      set: (value: { path?: unknown } | undefined) => {
        route = value;
        base = req.baseUrl;
      },
    });
    res.once('finish', () => {
      const path = route?.path;
      count(
        typeof path === 'string' ? `${base}${path}` : UNMATCHED_ROUTE,
        res.statusCode,
        req.method,
        (performance.now() - start) / 1000,
      );
    });
    next();
  };
}

/** `GET /metrics` and `GET /readyz`, when the hooks are given. */
export function opsRoutes(hooks: OpsHooks): Router {
  const r = Router();
  const { metrics, ready } = hooks;
  if (metrics) {
    r.get('/metrics', async (_req, res) => {
      const text = await metrics.text();
      res.set('content-type', metrics.contentType).set('cache-control', 'no-store').send(text);
    });
  }
  if (ready) {
    r.get('/readyz', async (_req, res) => {
      const result = await ready();
      res
        .status(result.ok ? 200 : 503)
        .set('cache-control', 'no-store')
        .json(result);
    });
  }
  return r;
}

const ReadinessBody = z.object({
  ok: z.boolean().meta({ description: 'true when every check is `ok`' }),
  checks: z.record(z.string(), z.string()).meta({
    description:
      "`redis` (PING on the command connection) and `pubsub` (a probe published on this gateway's own channel came back to its adapter subscriber): `ok`, or why not (`timeout`, `error`, `down`, or the connection status)",
  }),
});

/** What probes and scrapers call: no token, tagged `health`. */
export const PUBLIC_HEALTH = { tag: 'health', auth: 'none' } as const;

export const monitoringOperations: HttpOperation[] = [
  {
    ...PUBLIC_HEALTH,
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    summary: 'Can this gateway deliver? Redis commands work and its adapter subscription receives',
    description:
      'Workers answer the same on their metrics port (METRICS_PORT). A load balancer routes only to gateways that answer 200.',
    ...probeResponses(ReadinessBody, 'every check is `ok`', 'a check failed; `checks` names it'),
    errors: [],
  },
  {
    ...PUBLIC_HEALTH,
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary:
      "Prometheus metrics of this gateway: switchboard_*, and prom-client's process_* and nodejs_* under their standard names",
    description:
      'Counts and histograms with bounded labels (event, action, namespace, reason, route), never rooms or users. Workers serve theirs on METRICS_PORT.',
    response: {
      status: 200,
      description: 'the Prometheus text format',
      schema: z.string(),
      contentType: 'text/plain; version=0.0.4',
    },
    errors: [],
  },
];
