import type { ErrorBody, ErrorCode, ErrorIssue } from '../error-body';

/**
 * What a refused action rejects with: the gateway's `{ code, message }` (the same codes as its acks
 * and HTTP bodies), as an Error so stack traces and `instanceof` work. The library itself uses
 * `unavailable` when no answer can come (closed client, ack timeout, disconnect during a call) and
 * `invalid_argument` for a room name no namespace has.
 */
export class SwitchboardError extends Error implements ErrorBody {
  override readonly name = 'SwitchboardError';
  readonly issues?: ErrorIssue[];
  readonly retryAfterMs?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    details: { issues?: ErrorIssue[]; retryAfterMs?: number } = {},
  ) {
    super(message);
    if (details.issues) this.issues = details.issues;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }

  static from(body: ErrorBody): SwitchboardError {
    return new SwitchboardError(body.code, body.message, body);
  }
}
