import type { ErrorRequestHandler, RequestHandler } from 'express';
import { GatewayError, toGatewayError } from '../errors';
import { logger } from '../logger';

const log = logger('http');

/** Unknown routes answer like every other error: `{ error: { code, message } }`. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new GatewayError('not_found', `no route ${req.method} ${req.path}`));
};

/** Turns anything thrown by a route (or by body parsing) into a typed JSON error response. */
export const errorResponder: ErrorRequestHandler = (err, _req, res, _next) => {
  const error = fromBodyParser(err) ?? toGatewayError(err);
  if (error.code === 'internal') log.error({ err }, 'request failed');
  if (error.details.retryAfterMs !== undefined)
    res.setHeader('Retry-After', Math.ceil(error.details.retryAfterMs / 1000));
  res.status(error.status).json({ error: error.toJSON() });
};

function fromBodyParser(err: unknown): GatewayError | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed')
    return new GatewayError('invalid_json', 'request body is not valid JSON');
  if (type === 'entity.too.large')
    return new GatewayError('payload_too_large', 'request body is too large');
  if (typeof type === 'string' && type.startsWith('encoding.'))
    return new GatewayError('invalid_json', 'unsupported body encoding');
  // Other 4xx errors of express and its router (e.g. a path with broken percent-encoding) are the
  // caller's fault, never an internal error.
  const status =
    (err as { status?: unknown; statusCode?: unknown } | null)?.status ??
    (err as { statusCode?: unknown } | null)?.statusCode;
  if (
    !(err instanceof GatewayError) &&
    typeof status === 'number' &&
    status >= 400 &&
    status < 500
  ) {
    return new GatewayError(
      status === 413 ? 'payload_too_large' : 'invalid_argument',
      status === 413 ? 'request body is too large' : 'malformed request',
    );
  }
  return undefined;
}
