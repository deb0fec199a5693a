import { z, ZodError } from 'zod';
import type { SameShape } from './same-shape';
import { ERROR_CODES, type ErrorBody, type ErrorCode, type ErrorIssue } from './error-body';

export { ERROR_CODES, type ErrorBody, type ErrorCode, type ErrorIssue } from './error-body';

/**
 * The same shape as a zod schema, for the specs (src/specs/): the `error` of an HTTP error body, of
 * a `{ ok: false }` ack and of `disconnect_reason`.
 */
export const ErrorBodySchema = z.object({
  code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  issues: z
    .array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() }))
    .optional(),
  retryAfterMs: z.number().nonnegative().optional(),
});
true satisfies SameShape<z.output<typeof ErrorBodySchema>, ErrorBody>;

export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { issues?: ErrorIssue[]; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }

  toJSON(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.details.issues) body.issues = this.details.issues;
    if (this.details.retryAfterMs !== undefined) body.retryAfterMs = this.details.retryAfterMs;
    return body;
  }

  /** Converts zod issues into an `invalid_payload` (or another code) error with their paths. */
  static fromZod(
    error: ZodError,
    code: ErrorCode = 'invalid_payload',
    what = 'payload',
  ): GatewayError {
    const issues = error.issues.slice(0, 20).map((issue) => ({
      path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      message: issue.message,
    }));
    const first = issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
    return new GatewayError(code, `invalid ${what}${where}: ${first?.message ?? 'rejected'}`, {
      issues,
    });
  }
}

/** Anything thrown becomes a GatewayError; unknown failures are `internal` and say nothing more. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof ZodError) return GatewayError.fromZod(err);
  return new GatewayError('internal', 'internal error', { cause: err });
}
