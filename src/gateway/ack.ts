import { z } from 'zod';
import { ErrorBodySchema } from '../errors';

export type { Ack, AckError, AckOk } from '../wire/ack';

/** AckError as a schema, for the AsyncAPI document (src/specs/asyncapi.ts). */
export const AckErrorSchema = z.object({ ok: z.literal(false), error: ErrorBodySchema });
