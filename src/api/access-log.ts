import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp, stdSerializers, type HttpLogger } from 'pino-http';
import { logger } from '../logger';

/** What probes and scrapers call every few seconds: answered, never logged. */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** The header a request id comes in (from a proxy or a caller) and goes back out in. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * An incoming id is kept only if it is a plain token: it goes into every log line of the request
 * and back to the caller, so nothing that could break a line or a header, and nothing long.
 */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Secrets that must never reach a log line: bearer tokens, Basic credentials and the admin
 * session cookie, coming in or going out.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/**
 * The response headers worth a line. helmet's are left out: the same on every answer, they would
 * double each line's size.
 */
const LOGGED_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'location',
  'retry-after',
  'set-cookie',
];

/** The answer as logged: its status and the headers above that it has. */
function answerOf(res: ServerResponse): { statusCode: number; headers: Record<string, unknown> } {
  const headers: Record<string, unknown> = {};
  for (const name of LOGGED_RESPONSE_HEADERS) {
    const value = res.getHeader(name);
    if (value !== undefined) headers[name] = value;
  }
  return { statusCode: res.statusCode, headers };
}

/**
 * The request as logged: pino's standard fields without `query` and `params`, which express adds
 * only after routing (the URL holds the query), so a line has the same fields whenever it is built.
 */
function requestOf(req: IncomingMessage): Record<string, unknown> {
  const {
    query: _query,
    params: _params,
    ...fields
  } = stdSerializers.req(req) as unknown as Record<string, unknown>;
  return fields;
}

/**
 * The request's id: the caller's `X-Request-Id` when it is a sane token, else a new UUID. Set on
 * the response before anything is written, so every answer carries it, errors included.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/** Whether a request is a probe's (`/healthz`, `/readyz`, `/metrics`, with or without a query). */
export function isProbe(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  const query = url.indexOf('?');
  return PROBE_PATHS.has(query < 0 ? url : url.slice(0, query));
}

/**
 * The access log: one pino line per answered request on the project's logger (scope `access`),
 * with the request id, method, URL, headers (secrets redacted), status, a few answer headers and
 * the response time. Level by status: 5xx `error`, 4xx `warn`, else `info`. Probes are not logged
 * (they still get an id). One instance serves express and the publish routes in front of it
 * (http-edge.ts), so both log the same fields. `base`: another logger (a test's).
 *
 * @example createServer((req, res) => { log(req, res); app(req, res); }) // const log = accessLog()
 */
export function accessLog(base: Logger = logger('access')): HttpLogger {
  return pinoHttp({
    logger: base,
    genReqId: requestId,
    // Unwrapped: the answer's serializer reads the few headers it logs, not a copy of them all.
    wrapSerializers: false,
    serializers: { req: requestOf, res: answerOf, err: stdSerializers.err },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    autoLogging: { ignore: isProbe },
    customLogLevel: (_req, res, err) =>
      err !== undefined ? 'error' : levelOf(res.statusCode, 'info'),
  });
}

/** pino-http's levels by answer, and the publish routes' own level for a success. */
function levelOf(status: number, success: 'info' | 'debug'): 'error' | 'warn' | 'info' | 'debug' {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : success;
}

/**
 * The access line of a publish (`POST /api/events`, `/api/events/batch`), through the same
 * pino-http logger (its serializers and redaction) and with the same fields, but without its
 * per-request middleware: that builds two child loggers per request and serializes the request
 * up front, whether a line is written or not, which a CPU profile under publish load showed as a
 * third of the gateway's time outside the publish itself. A success is logged at `debug`: at
 * thousands of publishes a second a line each would be most of the gateway's work and of its log
 * volume, and `switchboard_http_request_duration_seconds` counts every one. Refusals and errors
 * are logged at `warn` / `error`, as on every route. One `close` listener; nothing else runs when
 * the level is off.
 */
export function publishAccessLog(
  http: HttpLogger,
): (req: IncomingMessage, res: ServerResponse) => void {
  const log = http.logger;
  return (req, res) => {
    const id = requestId(req, res);
    // stdSerializers.req reads the id from the request, where pino-http puts it.
    (req as IncomingMessage & { id: string }).id = id;
    const start = Date.now();
    res.once('close', () => {
      const level = levelOf(res.statusCode, 'debug');
      if (!log.isLevelEnabled(level)) return;
      log[level](
        { req, res, responseTime: Date.now() - start },
        res.statusCode >= 500 ? 'request errored' : 'request completed',
      );
    });
  };
}
