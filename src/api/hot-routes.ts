import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError, toGatewayError } from '../errors';
import { logger } from '../logger';
import type { Runtime } from '../runtime';
import { UNMATCHED_ROUTE, type OpsHooks, type RequestCount } from './monitoring';
import { batchPublisher } from './routes/publish-batch';
import { publishOne, type PublishAnswer } from './routes/publish';

const log = logger('http');

interface HotRoute {
  /** The label metrics count it under (the express route's). */
  route: string;
  /** Body limit, as the express route's JSON parser has it. */
  limitBytes: number;
  /** Whether a body that fails to parse counts under the route (its parser is the route's own). */
  parserInRoute: boolean;
  run: (body: unknown, idempotencyHeader: string | undefined) => Promise<PublishAnswer>;
}

/** The publish routes' paths, answered here or by express. */
const PUBLISH_PATHS: ReadonlySet<string> = new Set(['/api/events', '/api/events/batch']);

/** Whether a request is a publish (`POST /api/events` or `/api/events/batch`, any query). */
export function isPublishRequest(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  const query = url.indexOf('?');
  return PUBLISH_PATHS.has(query < 0 ? url : url.slice(0, query));
}

/** `application/json`, with or without parameters (`; charset=utf-8`). */
const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * The two publish routes answered without express, which costs the gateway several times what the
 * publish itself does (a CPU profile of `POST /api/events`: the router, body-parser, parseurl and
 * type-is took a quarter of the gateway's busy time). Only the requests express would pass straight
 * to those routes are taken: `POST` of exactly `/api/events` or `/api/events/batch`, presenting the
 * publish token, with a JSON content type, no Origin header (no CORS involved) and no publish rate
 * limit (RATE_PUBLISH_PER_SEC=0, the default: the publish token is never charged a Redis call).
 * Everything else, including every request that would be refused for its token or its origin, goes
 * to express untouched. The parsing, validation, idempotency and answers are the routes' own
 * functions (`publishOne`, `batchPublisher`); errors are the same typed JSON as `errorResponder`.
 */
export function withHotPublishRoutes(
  app: RequestListener,
  rt: Pick<Runtime, 'config' | 'events'>,
  ops: Pick<OpsHooks, 'metrics'>,
): RequestListener {
  const { PUBLISH_TOKEN, RATE_PUBLISH_PER_SEC, MAX_PAYLOAD_BYTES, PUBLISH_BATCH_MAX_BYTES } =
    rt.config;
  if (RATE_PUBLISH_PER_SEC > 0 || PUBLISH_TOKEN.length === 0) return app;
  const routes = new Map<string, HotRoute>([
    [
      '/api/events',
      {
        route: '/api/events',
        limitBytes: MAX_PAYLOAD_BYTES,
        parserInRoute: false,
        run: (body, key) => publishOne(rt, body, key),
      },
    ],
    [
      '/api/events/batch',
      {
        route: '/api/events/batch',
        limitBytes: PUBLISH_BATCH_MAX_BYTES,
        parserInRoute: true,
        run: batchPublisher(rt),
      },
    ],
  ]);
  // The expected side's digest once: the presented one is hashed per request, as safeEqual does.
  const expected = createHash('sha256').update(PUBLISH_TOKEN).digest();
  const isPublishToken = (header: string | undefined) => {
    const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
    if (token === undefined) return false;
    return timingSafeEqual(createHash('sha256').update(token).digest(), expected);
  };
  const metrics = ops.metrics;
  const count: RequestCount | undefined = metrics
    ? (...answered) => metrics.httpRequest(...answered)
    : undefined;

  return (req, res) => {
    const hot = req.method === 'POST' ? routes.get(req.url ?? '') : undefined;
    const encoding = req.headers['content-encoding'];
    if (
      !hot ||
      req.headers.origin !== undefined ||
      (encoding !== undefined && encoding.toLowerCase() !== 'identity') ||
      !JSON_TYPE.test(req.headers['content-type'] ?? '') ||
      !isPublishToken(req.headers.authorization)
    ) {
      app(req, res);
      return;
    }
    void answer(hot, req, res, count);
  };
}

async function answer(
  hot: HotRoute,
  req: IncomingMessage,
  res: ServerResponse,
  count: RequestCount | undefined,
): Promise<void> {
  const start = performance.now();
  let route = hot.route;
  try {
    let body: unknown;
    try {
      body = await readJson(req, hot.limitBytes);
    } catch (err) {
      if (!hot.parserInRoute) route = UNMATCHED_ROUTE;
      throw err;
    }
    const result = await hot.run(body, header(req, 'idempotency-key'));
    send(res, result.status, result.body, result.headers);
  } catch (err) {
    const error = toGatewayError(err);
    if (error.code === 'internal') log.error({ err }, 'request failed');
    const headers: Record<string, string> = {};
    if (error.details.retryAfterMs !== undefined)
      headers['Retry-After'] = String(Math.ceil(error.details.retryAfterMs / 1000));
    send(res, error.status, { error: error.toJSON() }, headers);
  }
  count?.(route, res.statusCode, 'POST', (performance.now() - start) / 1000);
}

/** Like express's `req.get` for a plain header (Node joins repeated ones with ', '). */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The body as express.json() reads it: at most `limit` bytes (413 `payload_too_large`, refused
 * from Content-Length before reading when it says so), strict JSON (an object or an array, else
 * 400 `invalid_json`), and `{}` for an empty body.
 */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => new GatewayError('payload_too_large', 'request body is too large');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(new GatewayError('invalid_argument', 'malformed request', { cause: err }));
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.length === 0) return resolve({});
      // JSON's whitespace is space, tab, LF and CR (body-parser's strict mode skips the same).
      const first = text.trimStart().charAt(0);
      if (first !== '{' && first !== '[')
        return reject(new GatewayError('invalid_json', 'request body is not valid JSON'));
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new GatewayError('invalid_json', 'request body is not valid JSON'));
      }
    });
  });
}
