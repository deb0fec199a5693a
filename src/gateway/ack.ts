import { z } from 'zod';
import { ErrorBodySchema, type ErrorBody } from '../errors';

/** Every client action is answered with one of these. */
export interface AckOk<T> {
  ok: true;
  data: T;
}
export interface AckError {
  ok: false;
  error: ErrorBody;
}
export type Ack<T> = AckOk<T> | AckError;

/** AckError as a schema, for the AsyncAPI document (src/specs/asyncapi.ts). */
export const AckErrorSchema = z.object({ ok: z.literal(false), error: ErrorBodySchema });
