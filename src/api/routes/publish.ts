import { Router } from 'express';
import { z } from 'zod';
import type { Runtime } from '../../runtime';
import { parse } from '../validate';

/** `POST /api/events { event, target?, data }`: the publish API for services not written in Node. */
const PublishBody = z.object({
  event: z.string().min(1).max(128),
  target: z.record(z.string(), z.unknown()).optional(),
  data: z.unknown(),
});

export function publishRoutes(rt: Runtime): Router {
  const r = Router();
  r.post('/events', async (req, res) => {
    const body = parse(PublishBody, req.body, 'body');
    res.status(202).json(await rt.events.publish(body));
  });
  return r;
}
