import { z } from 'zod';

/**
 * One event as a caller names it: the catalog event, its room params (else taken from the data)
 * and the payload. What `POST /api/events` and the admin force-emit both take, checked against the
 * catalog afterwards (an unknown event is 404 `unknown_event`, not a body error).
 */
export const EventRequestSchema = z.object({
  event: z.string().min(1).max(128),
  target: z.record(z.string(), z.unknown()).optional(),
  data: z.unknown(),
});
