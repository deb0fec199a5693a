import { Router, type Request } from 'express';
import { z } from 'zod';
import { NAMESPACES } from '../../catalog';
import { withExamples } from '../../catalog/fields';
import { EventRequestSchema } from '../../events/event-request';
import { PendingKeySchema } from '../../management/filters';
import { QueueKindSchema, RetryRequestSchema, type HandlerSummary, type QueueStatus } from '../../management/jobs';
import type { FlushOutcome, Management, PendingSummary } from '../../management/management';
import type { Runtime } from '../../runtime';
import type { SameShape } from '../../same-shape';
import { requireBearer } from '../bearer';
import type { HttpMethod, HttpOperation } from '../operation';
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
export const FailedQuery = withExamples(z.object({ queue: QueueKindSchema.optional(), limit: z.coerce.number().int().min(1).max(1000).default(50) }), {
  queue: 'delivery',
  limit: 20,
});
export const RetryBody = withExamples(RetryRequestSchema, { all: true }, { queue: 'delivery', id: '1' });
export const PauseBody = withExamples(z.object({ queue: QueueKindSchema.optional() }).strict(), { queue: 'handlers' });
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
  queue: QueueKindSchema,
  id: z.string(),
  name: z.string().meta({ description: 'delivery: the event name; handlers: the handler name' }),
  event: z.string().optional(),
  eventId: z.string().optional(),
  attemptsMade: z.number().int().nonnegative(),
  failedReason: z.string(),
  failedAt: z.number().int().optional(),
});
const Retried = z.object({ retried: z.number().int().nonnegative() });
const QueueStatusList = z.array(z.object({ queue: QueueKindSchema, paused: z.boolean(), counts: z.record(z.string(), z.number().int().nonnegative()) }));
const Handlers = z.object({
  handlers: z.array(z.object({ name: z.string(), events: z.array(z.string()), failed: z.number().int().nonnegative() })),
  byEvent: z.record(z.string(), z.number().int().nonnegative()),
});
true satisfies SameShape<z.output<typeof Counted>, FlushOutcome>;
true satisfies SameShape<Omit<z.output<typeof PendingEntry>, 'namespace'>, Omit<PendingSummary, 'namespace'>>;
true satisfies SameShape<z.output<typeof QueueStatusList>[number], QueueStatus>;
true satisfies SameShape<z.output<typeof Handlers>, HandlerSummary>;

/**
 * One /admin route: its entry in the OpenAPI document and the management call it makes. The route
 * parses its `query` or `body` schema (the one the document shows) and answers 200 with the
 * call's result, so a route's path, schema and doc are written once.
 */
interface AdminRoute {
  readonly operation: HttpOperation;
  readonly handle: (m: Management, req: Request) => Promise<unknown>;
}

type AdminDoc<S extends z.ZodType> = Omit<HttpOperation, 'method' | 'path' | 'tag' | 'auth' | 'query' | 'body'> &
  ({ query: S & z.ZodObject } | { body: S } | object);

function adminRoute<S extends z.ZodType>(
  route: `${HttpMethod} /admin/${string}`,
  call: (m: Management, input: z.output<S>) => Promise<unknown>,
  doc: AdminDoc<S>,
): AdminRoute {
  const [method, path] = route.split(' ') as [HttpMethod, string];
  const operation: HttpOperation = { ...doc, method, path, tag: 'admin', auth: 'admin' };
  const { query, body, bodyOptional } = operation;
  const input = (req: Request): unknown => {
    if (query) return parse(query, req.query, 'query');
    if (body) return parse(body, bodyOptional ? ((req.body as unknown) ?? {}) : req.body, 'body');
    return undefined;
  };
  return { operation, handle: (m, req) => call(m, input(req) as z.output<S>) };
}

/** `POST /admin/queue/pause` and `/resume`: one route, but for which way it switches. */
function queueSwitch(verb: 'pause' | 'resume', summary: string, description: string): AdminRoute {
  return adminRoute(`post /admin/queue/${verb}`, (m, { queue }) => m.jobs.setPaused(verb === 'pause', queue), {
    operationId: `${verb}Queue`,
    summary,
    description,
    body: PauseBody,
    bodyOptional: true,
    response: { status: 200, description: 'the queues after the change', schema: QueueStatusList },
    errors: ['invalid_payload'],
  });
}

/** Every /admin route, in the document's order. */
const ADMIN_ROUTES: AdminRoute[] = [
  adminRoute('get /admin/pending/count', (m, filter) => m.pendingCount(filter), {
    operationId: 'countPending',
    summary: 'Count pending entries',
    description: 'How many open throttle windows match, and how many accepted events they hold.',
    query: Filter,
    response: { status: 200, description: 'entries and the events in them', schema: Counted },
    errors: ['invalid_payload', 'invalid_argument'],
  }),
  adminRoute('get /admin/pending', (m, page) => m.listPending(page), {
    operationId: 'listPending',
    summary: 'List pending entries',
    description: 'One page of open throttle windows, oldest first; `nextCursor` is null on the last page.',
    query: ListQuery,
    response: { status: 200, description: 'one page', schema: PendingPage },
    errors: ['invalid_payload', 'invalid_argument'],
  }),
  adminRoute('post /admin/pending/flush', (m, which) => m.flushPending(which), {
    operationId: 'flushPending',
    summary: 'Flush pending entries now',
    description: 'Claims one entry (`key`) or every entry open when the call started (`all`) and hands them to the workers, which emit them.',
    body: FlushBody,
    response: { status: 200, description: 'what was flushed', schema: Counted },
    errors: ['invalid_payload', 'invalid_argument', 'not_found', 'unavailable'],
  }),
  adminRoute('post /admin/pending/drop', (m, which) => m.dropPending(which), {
    operationId: 'dropPending',
    summary: 'Drop a pending entry',
    description: 'Discards one open window without emitting it and says what it held.',
    body: DropBody,
    response: { status: 200, description: 'the dropped entry with its data (latest/leading) or items (batch)', schema: Dropped },
    errors: ['invalid_payload', 'invalid_argument', 'not_found'],
  }),
  adminRoute('post /admin/emit', (m, { event, data, target }) => m.forceEmit(event, data, target), {
    operationId: 'forceEmit',
    summary: 'Force-emit one event',
    description:
      'Validates with the catalog and emits at once, bypassing the throttle (an open window of the same key is left alone). A `batch` event goes out as `{ items: [data] }`.',
    body: EmitBody,
    response: { status: 200, description: 'queued for a worker to emit', schema: Emitted },
    errors: ['invalid_payload', 'invalid_target', 'unknown_event', 'unavailable'],
  }),
  adminRoute('get /admin/failed', (m, which) => m.jobs.listFailed(which), {
    operationId: 'listFailed',
    summary: 'List failed jobs',
    description: 'Jobs kept after their last attempt failed (delivery, pending, handlers), newest first.',
    query: FailedQuery,
    response: { status: 200, description: 'failed jobs', schema: z.array(FailedJob) },
    errors: ['invalid_payload'],
  }),
  adminRoute('post /admin/failed/retry', (m, which) => m.jobs.retryFailed(which), {
    operationId: 'retryFailed',
    summary: 'Retry failed jobs',
    description: 'Moves one failed job (`queue`, `id`) or all of them (`all`, optionally of one queue) back to waiting.',
    body: RetryBody,
    response: { status: 200, description: 'how many were retried', schema: Retried },
    errors: ['invalid_payload', 'not_found'],
  }),
  adminRoute('get /admin/queue', (m) => m.jobs.status(), {
    operationId: 'queueStatus',
    summary: 'Queue status',
    description: 'Job counts of each queue and whether processing is paused.',
    response: { status: 200, description: 'one entry per queue', schema: QueueStatusList },
    errors: [],
  }),
  queueSwitch('pause', 'Pause processing', 'BullMQ global pause of one queue or all: events keep being accepted and are delivered once resumed.'),
  queueSwitch('resume', 'Resume processing', 'Resumes one queue or all; everything queued while paused is delivered.'),
  adminRoute('get /admin/handlers', (m) => m.jobs.handlers(), {
    operationId: 'listHandlers',
    summary: 'Server-side handlers',
    description: 'The handlers the workers loaded, each with its events and failed job count; per event, how many handlers run.',
    response: { status: 200, description: 'handlers and counts', schema: Handlers },
    errors: [],
  }),
];

export const adminOperations: HttpOperation[] = ADMIN_ROUTES.map((route) => route.operation);

/**
 * `/admin/...`: the management core over HTTP (ADMIN_ROUTES), behind `Authorization: Bearer
 * <ADMIN_TOKEN>`. With no ADMIN_TOKEN configured every request is refused.
 */
export function adminRoutes(rt: Pick<Runtime, 'config' | 'management'>): Router {
  const r = Router();
  r.use(requireBearer([rt.config.ADMIN_TOKEN], 'admin API'));
  // Mounted at /admin (src/api/app.ts).
  for (const { operation, handle } of ADMIN_ROUTES) {
    r[operation.method](operation.path.slice('/admin'.length), async (req, res) => {
      res.json(await handle(rt.management, req));
    });
  }
  return r;
}
