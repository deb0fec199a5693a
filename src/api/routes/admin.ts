import { Router, type Request } from 'express';
import { z } from 'zod';
import { NAMESPACES } from '../../catalog';
import { withExamples } from '../../catalog/fields';
import { EventRequestSchema } from '../../events/event-request';
import { ThrottleKeySchema } from '../../management/filters';
import {
  QueueKindSchema,
  RetryRequestSchema,
  type HandlerSummary,
  type QueueStatus,
} from '../../management/jobs';
import type { FlushOutcome, Management, WindowSummary } from '../../management/management';
import type { ErrorCode } from '../../errors';
import type { Runtime } from '../../runtime';
import type { SameShape } from '../../same-shape';
import { requireBearer } from '../bearer';
import type { HttpOperation } from '../operation';
import { parse } from '../validate';
import ADMIN_DOCS from './admin-docs.json';

// The schemas each route parses with; the OpenAPI document (adminOperations) shows the same ones.
const EXAMPLE_KEY = 'social:post_liked:post:123';
export const Filter = withExamples(
  z.object({
    namespace: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .meta({ description: 'only this namespace: /social or social' }),
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
  z.union([
    z.object({ key: ThrottleKeySchema }).strict(),
    z.object({ all: z.literal(true) }).strict(),
  ]),
  { key: EXAMPLE_KEY },
  { all: true },
);
export const DropBody = withExamples(z.object({ key: ThrottleKeySchema }), { key: EXAMPLE_KEY });
export const FailedQuery = withExamples(
  z.object({
    queue: QueueKindSchema.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
  }),
  {
    queue: 'delivery',
    limit: 20,
  },
);
export const RetryBody = withExamples(
  RetryRequestSchema,
  { all: true },
  { queue: 'delivery', id: '1' },
);
// A request without a body pauses (resumes) every queue.
export const PauseBody = withExamples(
  z.object({ queue: QueueKindSchema.optional() }).strict().default({}),
  { queue: 'handlers' },
);
export const EmitBody = withExamples(EventRequestSchema, {
  event: 'post_liked',
  target: { postId: '123' },
  data: { postId: '123', userId: '42', likeCount: 7 },
});

// What the routes answer (the management core's return types, checked below).
const Counted = z.object({
  windows: z.number().int().nonnegative(),
  events: z.number().int().nonnegative(),
});
const WindowEntry = z.object({
  key: z
    .string()
    .meta({ description: 'the entry as operators name it: <namespace>:<event>:<room>' }),
  event: z.string(),
  namespace: z.enum(NAMESPACES),
  room: z.string(),
  count: z.number().int().positive().meta({ description: 'accepted events the window holds' }),
  ageMs: z.number().int().nonnegative(),
  mode: z.enum(['latest', 'leading', 'batch']),
  windowMs: z.number().int().positive(),
  id: z.string().meta({ description: 'the meta.id its emit will carry' }),
});
const WindowPage = z.object({ items: z.array(WindowEntry), nextCursor: z.string().nullable() });
const Dropped = z.object({
  dropped: WindowEntry.extend({
    data: z.unknown().optional(),
    items: z.array(z.unknown()).optional(),
  }),
});
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
const QueueStatusList = z.array(
  z.object({
    queue: QueueKindSchema,
    paused: z.boolean(),
    counts: z.record(z.string(), z.number().int().nonnegative()),
  }),
);
const Handlers = z.object({
  handlers: z.array(
    z.object({
      name: z.string(),
      events: z.array(z.string()),
      failed: z.number().int().nonnegative(),
    }),
  ),
  byEvent: z.record(z.string(), z.number().int().nonnegative()),
});
true satisfies SameShape<z.output<typeof Counted>, FlushOutcome>;
true satisfies SameShape<
  Omit<z.output<typeof WindowEntry>, 'namespace'>,
  Omit<WindowSummary, 'namespace'>
>;
true satisfies SameShape<z.output<typeof QueueStatusList>[number], QueueStatus>;
true satisfies SameShape<z.output<typeof Handlers>, HandlerSummary>;

/** How the document names and describes each /admin route, keyed `method path`. */
type AdminRouteKey = keyof typeof ADMIN_DOCS;

/**
 * One /admin route: the schema it reads (the query of a GET, the body of a POST; null: nothing),
 * the schema of its 200 answer, the management call it makes, and the error codes the call adds
 * to those every route of its shape answers (src/specs/openapi.ts). The router parses with the
 * same schemas the OpenAPI document shows, so each route is written once.
 */
interface AdminRoute {
  readonly operation: HttpOperation;
  readonly handle: (m: Management, req: Request) => Promise<unknown>;
}

function adminRoute<S extends z.ZodType>(
  key: AdminRouteKey,
  input: S | null,
  answer: z.ZodType,
  call: (m: Management, input: z.output<S>) => Promise<unknown>,
  errors: ErrorCode[] = [],
): AdminRoute {
  const [method, path] = key.split(' ') as ['get' | 'post', string];
  const { response, ...doc } = ADMIN_DOCS[key];
  const operation: HttpOperation = {
    ...doc,
    method,
    path,
    tag: 'admin',
    auth: 'admin',
    ...readsOf(key, input),
    response: { status: 200, description: response, schema: answer },
    errors,
  };
  const read = (req: Request) =>
    input === null
      ? undefined
      : method === 'get'
        ? parse(input, req.query, 'query')
        : parse(input, req.body, 'body');
  return { operation, handle: (m, req) => call(m, read(req) as z.output<S>) };
}

/** Where a route's input is: a GET's query (an object schema), a POST's body, or nothing. */
function readsOf(
  key: AdminRouteKey,
  input: z.ZodType | null,
): Pick<HttpOperation, 'query' | 'body'> {
  if (input === null) return {};
  if (key.startsWith('post ')) return { body: input };
  if (input instanceof z.ZodObject) return { query: input };
  throw new Error(`${key} reads its query: it needs an object schema`);
}

/** Every /admin route, in the document's order; their words are in admin-docs.json. */
const ADMIN_ROUTES: AdminRoute[] = [
  adminRoute('get /admin/throttle/count', Filter, Counted, (m, filter) => m.countWindows(filter), [
    'invalid_argument',
  ]),
  adminRoute('get /admin/throttle', ListQuery, WindowPage, (m, page) => m.listWindows(page), [
    'invalid_argument',
  ]),
  adminRoute(
    'post /admin/throttle/flush',
    FlushBody,
    Counted,
    (m, which) => m.flushWindows(which),
    ['invalid_argument', 'not_found', 'unavailable'],
  ),
  adminRoute('post /admin/throttle/drop', DropBody, Dropped, (m, which) => m.dropWindow(which), [
    'invalid_argument',
    'not_found',
  ]),
  adminRoute(
    'post /admin/emit',
    EmitBody,
    Emitted,
    (m, ev) => m.forceEmit(ev.event, ev.data, ev.target),
    ['invalid_target', 'unknown_event', 'unavailable'],
  ),
  adminRoute('get /admin/failed', FailedQuery, z.array(FailedJob), (m, which) =>
    m.jobs.listFailed(which),
  ),
  adminRoute(
    'post /admin/failed/retry',
    RetryBody,
    Retried,
    (m, which) => m.jobs.retryFailed(which),
    ['not_found'],
  ),
  adminRoute('get /admin/queue', null, QueueStatusList, (m) => m.jobs.status()),
  adminRoute('post /admin/queue/pause', PauseBody, QueueStatusList, (m, { queue }) =>
    m.jobs.setPaused(true, queue),
  ),
  adminRoute('post /admin/queue/resume', PauseBody, QueueStatusList, (m, { queue }) =>
    m.jobs.setPaused(false, queue),
  ),
  adminRoute('get /admin/handlers', null, Handlers, (m) => m.jobs.handlers()),
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
