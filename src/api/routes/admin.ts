import { Router } from 'express';
import { z } from 'zod';
import { PendingKeySchema } from '../../management/filters';
import { QUEUE_KINDS } from '../../management/jobs';
import type { Runtime } from '../../runtime';
import { requireBearer } from '../bearer';
import { parse } from '../validate';

const Filter = z.object({
  namespace: z.string().min(1).max(64).optional(),
  event: z.string().min(1).max(128).optional(),
});
const ListQuery = Filter.extend({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().max(16).optional(),
});
const FlushBody = z.union([z.object({ key: PendingKeySchema }).strict(), z.object({ all: z.literal(true) }).strict()]);
const DropBody = z.object({ key: PendingKeySchema });
const QueueKind = z.enum(QUEUE_KINDS);
const FailedQuery = z.object({ queue: QueueKind.optional(), limit: z.coerce.number().int().min(1).max(1000).default(50) });
const RetryBody = z.union([
  z.object({ queue: QueueKind, id: z.string().min(1).max(200) }).strict(),
  z.object({ all: z.literal(true), queue: QueueKind.optional() }).strict(),
]);
const PauseBody = z.object({ queue: QueueKind.optional() }).strict();
const EmitBody = z.object({
  event: z.string().min(1).max(128),
  target: z.record(z.string(), z.unknown()).optional(),
  data: z.unknown(),
});

/**
 * `/admin/...`: the management core over HTTP, behind `Authorization: Bearer <ADMIN_TOKEN>`.
 * With no ADMIN_TOKEN configured every request is refused.
 *   GET  /admin/pending/count?namespace=&event=
 *   GET  /admin/pending?namespace=&event=&limit=&cursor=
 *   POST /admin/pending/flush  { key } | { all: true }
 *   POST /admin/pending/drop   { key }
 *   POST /admin/emit           { event, target?, data }   (force-emit, bypasses throttling)
 *   GET  /admin/failed?queue=&limit=
 *   POST /admin/failed/retry   { queue, id } | { all: true, queue? }
 *   GET  /admin/queue
 *   POST /admin/queue/pause    { queue? }
 *   POST /admin/queue/resume   { queue? }
 *   GET  /admin/handlers
 */
export function adminRoutes(rt: Runtime): Router {
  const r = Router();
  const m = rt.management;
  r.use(requireBearer([rt.config.ADMIN_TOKEN], 'admin API'));

  r.get('/pending/count', async (req, res) => {
    res.json(await m.pendingCount(parse(Filter, req.query, 'query')));
  });
  r.get('/pending', async (req, res) => {
    res.json(await m.listPending(parse(ListQuery, req.query, 'query')));
  });
  r.post('/pending/flush', async (req, res) => {
    res.json(await m.flushPending(parse(FlushBody, req.body, 'body')));
  });
  r.post('/pending/drop', async (req, res) => {
    res.json(await m.dropPending(parse(DropBody, req.body, 'body')));
  });
  r.post('/emit', async (req, res) => {
    const body = parse(EmitBody, req.body, 'body');
    res.json(await m.forceEmit(body.event, body.data, body.target));
  });

  r.get('/failed', async (req, res) => {
    res.json(await m.jobs.listFailed(parse(FailedQuery, req.query, 'query')));
  });
  r.post('/failed/retry', async (req, res) => {
    res.json(await m.jobs.retryFailed(parse(RetryBody, req.body, 'body')));
  });
  r.get('/queue', async (_req, res) => {
    res.json(await m.jobs.status());
  });
  r.post('/queue/pause', async (req, res) => {
    res.json(await m.jobs.setPaused(true, parse(PauseBody, req.body ?? {}, 'body').queue));
  });
  r.post('/queue/resume', async (req, res) => {
    res.json(await m.jobs.setPaused(false, parse(PauseBody, req.body ?? {}, 'body').queue));
  });
  r.get('/handlers', async (_req, res) => {
    res.json(await m.jobs.handlers());
  });
  return r;
}
