import { Router } from 'express';
import { z } from 'zod';
import type { Runtime } from '../../runtime';
import { IDEMPOTENCY_KEY_RE } from '../../events/idempotency';
import { parse } from '../validate';

/**
 * `POST /api/events { event, target?, data, idempotencyKey? }`: the publish API for services not
 * written in Node. The idempotency key may also come as an `Idempotency-Key` header (the header
 * wins if both are set); a replay answers 202 with the first request's id and
 * `Idempotent-Replayed: true`.
 */
export const PublishBody = z.object({
  event: z.string().min(1).max(128),
  target: z.record(z.string(), z.unknown()).optional(),
  data: z.unknown(),
  idempotencyKey: z.string().regex(IDEMPOTENCY_KEY_RE, '1-256 printable ASCII characters without spaces').optional(),
});

const IdempotencyHeader = z.string().regex(IDEMPOTENCY_KEY_RE, '1-256 printable ASCII characters without spaces').optional();

export function publishRoutes(rt: Runtime): Router {
  const r = Router();
  r.post('/events', async (req, res) => {
    const { idempotencyKey: bodyKey, ...body } = parse(PublishBody, req.body, 'body');
    const idempotencyKey = parse(IdempotencyHeader, req.get('idempotency-key'), 'Idempotency-Key header') ?? bodyKey;
    const accepted = await rt.events.publish(body, { idempotencyKey });
    if (accepted.replayed) res.set('Idempotent-Replayed', 'true');
    res.status(202).json({ id: accepted.id });
  });
  return r;
}
