import { z } from 'zod';
import type { ErrorCode } from '../errors';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/**
 * Who may call a route: the publish token (/api), the admin token (/admin), the admin pages'
 * sign-in (HTTP Basic admin:ADMIN_TOKEN or the session cookie), or anyone.
 */
export type HttpAuth = 'publish' | 'admin' | 'adminPage' | 'none';

/**
 * One HTTP route as the OpenAPI document (src/specs/openapi.ts) describes it. Each route file
 * exports the operations of its routes next to them, naming the very schemas its handlers parse
 * with; src/api/operations.ts lists them all, and test/specs/ checks that list against the routes
 * the express app really has.
 */
export interface HttpOperation {
  readonly method: HttpMethod;
  /** The full path, OpenAPI style: `/api/posts/{id}/like`. */
  readonly path: string;
  /**
   * The path serves a page with files and an API of its own below it (Bull Board, the Admin UI,
   * the console's static files): the document describes the page, not each file.
   */
  readonly mount?: true;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: HttpAuth;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** Request headers the route reads, e.g. Idempotency-Key. */
  readonly headers?: Readonly<
    Record<string, { readonly schema: z.ZodType; readonly description: string }>
  >;
  /** The JSON body (its examples come from `withExamples` unless `examples` names them). */
  readonly body?: z.ZodType;
  /** `application/json` unless said otherwise (the sign-in form posts urlencoded). */
  readonly bodyContentType?: 'application/x-www-form-urlencoded';
  readonly examples?: Readonly<
    Record<string, { readonly summary?: string; readonly value: unknown }>
  >;
  readonly response: {
    readonly status: number;
    readonly description: string;
    /** The JSON body's schema; absent for answers that are not JSON (see `contentType`). */
    readonly schema?: z.ZodType;
    /** `application/json` unless said otherwise. */
    readonly contentType?: string;
    /** Response headers the route may set, with what they mean. */
    readonly headers?: Readonly<Record<string, string>>;
  };
  /** Answers besides the success and the errors, e.g. /healthz's 503 with the same body. */
  readonly otherResponses?: Readonly<
    Record<number, { readonly description: string; readonly schema: z.ZodType }>
  >;
  /**
   * Error codes of this route, besides those the generator adds from its shape: `unauthorized`
   * and `rate_limited` behind a token, `invalid_payload` with params, a query or a body,
   * `invalid_json` and `payload_too_large` with a JSON body, `internal`.
   */
  readonly errors: readonly ErrorCode[];
}

/** An event id as publish routes return it: the `meta.id` clients will receive (UUIDv7). */
export const EventId = z
  .string()
  .meta({ description: 'the event id: the `meta.id` clients receive (UUIDv7)' });

/** `202 { id }`: accepted for delivery. */
export const Accepted = z.object({ id: EventId });

/**
 * The answers of a health probe: 200 when every check passes, else 503 with the same body, so a
 * load balancer can route on the status alone.
 */
export function probeResponses(
  schema: z.ZodType,
  up: string,
  down: string,
): Pick<HttpOperation, 'response' | 'otherResponses'> {
  return {
    response: { status: 200, description: up, schema },
    otherResponses: { 503: { description: down, schema } },
  };
}
