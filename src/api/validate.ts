import type { z } from 'zod';
import { GatewayError } from '../errors';

/** Parses one part of a request (params, body) or throws `invalid_payload` with the zod issues. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw GatewayError.fromZod(result.error, 'invalid_payload', what);
  return result.data;
}
