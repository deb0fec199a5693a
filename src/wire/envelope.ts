import { z } from 'zod';
import { NAMESPACES } from '../catalog';

/**
 * What travels through the queue for one accepted event. `data` is already validated by the
 * catalog schema; the worker validates it again because producer and worker may run different
 * versions of the catalog.
 */
export const EnvelopeSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(64),
  event: z.string().min(1).max(128),
  ns: z.enum(NAMESPACES),
  room: z.string().min(1).max(300),
  data: z.unknown(),
  ts: z.number().int().nonnegative(),
  /** Set on the immediate first emit of a `leading` throttle (it stands for one event). */
  coalesced: z.number().int().positive().optional(),
});

export type Envelope = z.infer<typeof EnvelopeSchema>;
