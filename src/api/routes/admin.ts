import { Router } from 'express';
import { z } from 'zod';
import { NAMESPACES } from '../../catalog';
import { withExamples } from '../../catalog/fields';
import { EventRequestSchema } from '../../events/event-request';
import { PendingKeySchema } from '../../management/filters';
import { QUEUE_KINDS, type HandlerSummary, type QueueStatus } from '../../management/jobs';
import type { FlushOutcome, PendingSummary } from '../../management/management';
import type { Runtime } from '../../runtime';
import type { SameShape } from '../../same-shape';
import { requireBearer } from '../bearer';
import type { HttpOperation } from '../operation';
import { parse } from '../validate';

// The schemas each route parses with; the OpenAPI document (adminOperations) shows the same ones.
const EXAMPLE_KEY = 'social:post_liked:post:123';
export const Filter = withExamples(
  z.object({
    namespace: z.string().min(1).max(64).optional().meta({ description: 'only this namespace: /social or social' }),
    event: z.string().min(1).max(128).optional().meta({ description: 'only this catalog event' }),
  }),
  { namespace: '/social', event: 'post_liked' },
);
export const ListQuery = withExamples(
  Filter.extend({
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    cursor: z.string().max(400).optional().meta({ description: "the previous page's nextCursor" }),
  }),
  { namespace: '/social', limit: 50 },
);
export const FlushBody = withExamples(
  z.union([z.object({ key: PendingKeySchema }).strict(), z.object({ all: z.literal(true) }).strict()]),
  { key: EXAMPLE_KEY },
  { all: true },
);
export const DropBody = withExamples(z.object({ key: PendingKeySchema }), { key: EXAMPLE_KEY });
const QueueKind = z.enum(QUEUE_KINDS);
export const FailedQuery = withExamples(z.object({ queue: QueueKind.optional(), limit: z.coerce.number().int().min(1).max(1000).default(50) }), {
  queue: 'delivery',
  limit: 20,
});
export const RetryBody = withExamples(
  z.union([z.object({ queue: QueueKind, id: z.string().min(1).max(200) }).strict(), z.object({ all: z.literal(true), queue: QueueKind.optional() }).strict()]),
  { all: true },
  { queue: 'delivery', id: '1' },
);
export const PauseBody = withExamples(z.object({ queue: QueueKind.optional() }).strict(), { queue: 'handlers' });
export const EmitBody = withExamples(EventRequestSchema, {
  event: 'post_liked',
  target: { postId: '123' },
  data: { postId: '123', userId: '42', likeCount: 7 },
});

// What the routes answer (the management core's return types, checked below).
const Counted = z.object({ entries: z.number().int().nonnegative(), events: z.number().int().nonnegative() });
const PendingEntry = z.object({
  key: z.string().meta({ description: 'the entry as operators name it: <namespace>:<event>:<room>' }),
  event: z.string(),
  namespace: z.enum(NAMESPACES),
  room: z.string(),
  count: z.number().int().positive().meta({ description: 'accepted events the window holds' }),
  ageMs: z.number().int().nonnegative(),
  mode: z.enum(['latest', 'leading', 'batch']),
  windowMs: z.number().int().positive(),
  id: z.string().meta({ description: 'the meta.id its emit will carry' }),
});
const PendingPage = z.object({ items: z.array(PendingEntry), nextCursor: z.string().nullable() });
const Dropped = z.object({ dropped: PendingEntry.extend({ data: z.unknown().optional(), items: z.array(z.unknown()).optional() }) });
const Emitted = z.object({ id: z.string(), namespace: z.enum(NAMESPACES), room: z.string() });
const FailedJob = z.object({
  queue: QueueKind,
  id: z.string(),
  name: z.string().meta({ description: 'delivery: the event name; handlers: the handler name' }),
  event: z.string().optional(),
  eventId: z.string().optional(),
  attemptsMade: z.number().int().nonnegative(),
  failedReason: z.string(),
  failedAt: z.number().int().optional(),
});
const Retried = z.object({ retried: z.number().int().nonnegative() });
const QueueStatusList = z.array(z.object({ queue: QueueKind, paused: z.boolean(), counts: z.record(z.string(), z.number().int().nonnegative()) }));
const Handlers = z.object({
  handlers: z.array(z.object({ name: z.string(), events: z.array(z.string()), failed: z.number().int().nonnegative() })),
  byEvent: z.record(z.string(), z.number().int().nonnegative()),
});
true satisfies SameShape<z.output<typeof Counted>, FlushOutcome>;
true satisfies SameShape<Omit<z.output<typeof PendingEntry>, 'namespace'>, Omit<PendingSummary, 'namespace'>>;
true satisfies SameShape<z.output<typeof QueueStatusList>[number], QueueStatus>;
true satisfies SameShape<z.output<typeof Handlers>, HandlerSummary>;

/** `POST /admin/queue/pause` and `/resume`: one route, but for which way it switches. */
const QUEUE_SWITCHES = [
  {
    verb: 'pause',
    paused: true,
    summary: 'Pause processing',
    description: 'BullMQ global pause of one queue or all: events keep being accepted and are delivered once resumed.',
  },
  { verb: 'resume', paused: false, summary: 'Resume processing', description: 'Resumes one queue or all; everything queued while paused is delivered.' },
] as const;

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
export function adminRoutes(rt: Pick<Runtime, 'config' | 'management'>): Router {
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
  for (const { verb, paused } of QUEUE_SWITCHES) {
    r.post(`/queue/${verb}`, async (req, res) => {
      res.json(await m.jobs.setPaused(paused, parse(PauseBody, req.body ?? {}, 'body').queue));
    });
  }
  r.get('/handlers', async (_req, res) => {
    res.json(await m.jobs.handlers());
  });
  return r;
}

const ADMIN = { tag: 'admin', auth: 'admin' } as const;

/** The document entry of one QUEUE_SWITCHES route. */
function queueSwitchOperation({ verb, summary, description }: (typeof QUEUE_SWITCHES)[number]): HttpOperation {
  return {
    ...ADMIN,
    method: 'post',
    path: `/admin/queue/${verb}`,
    operationId: `${verb}Queue`,
    summary,
    description,
    body: PauseBody,
    bodyOptional: true,
    response: { status: 200, description: 'the queues after the change', schema: QueueStatusList },
    errors: ['invalid_payload'],
  };
}

export const adminOperations: HttpOperation[] = [
  {
    ...ADMIN,
    method: 'get',
    path: '/admin/pending/count',
    operationId: 'countPending',
    summary: 'Count pending entries',
    description: 'How many open throttle windows match, and how many accepted events they hold.',
    query: Filter,
    response: { status: 200, description: 'entries and the events in them', schema: Counted },
    errors: ['invalid_payload', 'invalid_argument'],
  },
  {
    ...ADMIN,
    method: 'get',
    path: '/admin/pending',
    operationId: 'listPending',
    summary: 'List pending entries',
    description: 'One page of open throttle windows, oldest first; `nextCursor` is null on the last page.',
    query: ListQuery,
    response: { status: 200, description: 'one page', schema: PendingPage },
    errors: ['invalid_payload', 'invalid_argument'],
  },
  {
    ...ADMIN,
    method: 'post',
    path: '/admin/pending/flush',
    operationId: 'flushPending',
    summary: 'Flush pending entries now',
    description: 'Claims one entry (`key`) or every entry open when the call started (`all`) and hands them to the workers, which emit them.',
    body: FlushBody,
    response: { status: 200, description: 'what was flushed', schema: Counted },
    errors: ['invalid_payload', 'invalid_argument', 'not_found', 'unavailable'],
  },
  {
    ...ADMIN,
    method: 'post',
    path: '/admin/pending/drop',
    operationId: 'dropPending',
    summary: 'Drop a pending entry',
    description: 'Discards one open window without emitting it and says what it held.',
    body: DropBody,
    response: { status: 200, description: 'the dropped entry with its data (latest/leading) or items (batch)', schema: Dropped },
    errors: ['invalid_payload', 'invalid_argument', 'not_found'],
  },
  {
    ...ADMIN,
    method: 'post',
    path: '/admin/emit',
    operationId: 'forceEmit',
    summary: 'Force-emit one event',
    description:
      'Validates with the catalog and emits at once, bypassing the throttle (an open window of the same key is left alone). A `batch` event goes out as `{ items: [data] }`.',
    body: EmitBody,
    response: { status: 200, description: 'queued for a worker to emit', schema: Emitted },
    errors: ['invalid_payload', 'invalid_target', 'unknown_event', 'unavailable'],
  },
  {
    ...ADMIN,
    method: 'get',
    path: '/admin/failed',
    operationId: 'listFailed',
    summary: 'List failed jobs',
    description: 'Jobs kept after their last attempt failed (delivery, pending, handlers), newest first.',
    query: FailedQuery,
    response: { status: 200, description: 'failed jobs', schema: z.array(FailedJob) },
    errors: ['invalid_payload'],
  },
  {
    ...ADMIN,
    method: 'post',
    path: '/admin/failed/retry',
    operationId: 'retryFailed',
    summary: 'Retry failed jobs',
    description: 'Moves one failed job (`queue`, `id`) or all of them (`all`, optionally of one queue) back to waiting.',
    body: RetryBody,
    response: { status: 200, description: 'how many were retried', schema: Retried },
    errors: ['invalid_payload', 'not_found'],
  },
  {
    ...ADMIN,
    method: 'get',
    path: '/admin/queue',
    operationId: 'queueStatus',
    summary: 'Queue status',
    description: 'Job counts of each queue and whether processing is paused.',
    response: { status: 200, description: 'one entry per queue', schema: QueueStatusList },
    errors: [],
  },
  ...QUEUE_SWITCHES.map(queueSwitchOperation),
  {
    ...ADMIN,
    method: 'get',
    path: '/admin/handlers',
    operationId: 'listHandlers',
    summary: 'Server-side handlers',
    description: 'The handlers the workers loaded, each with its events and failed job count; per event, how many handlers run.',
    response: { status: 200, description: 'handlers and counts', schema: Handlers },
    errors: [],
  },
];
