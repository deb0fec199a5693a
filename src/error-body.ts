/**
 * One table of error codes, each with its HTTP status. The same GatewayError serializes to a
 * socket ack (`{ ok: false, error }`), an HTTP body and a CLI line.
 */
export const ERROR_CODES = {
  invalid_payload: 400,
  invalid_target: 400,
  invalid_json: 400,
  invalid_argument: 400,
  not_joined: 400,
  unauthorized: 401,
  forbidden: 403,
  unknown_event: 404,
  unknown_action: 404,
  not_found: 404,
  conflict: 409,
  too_many_rooms: 409,
  too_many_connections: 429,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorIssue {
  path: (string | number)[];
  message: string;
}

/** What crosses a process boundary: plain JSON. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  issues?: ErrorIssue[];
  retryAfterMs?: number;
}
