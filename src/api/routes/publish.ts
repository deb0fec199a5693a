import { Router } from 'express';
import { z } from 'zod';
import { listEvents } from '../../catalog';
import { exampleOf, paramsOutsidePayload } from '../../catalog/describe';
import { id } from '../../catalog/fields';
import { IDEMPOTENCY_KEY_RE } from '../../events/idempotency';
import type { Runtime } from '../../runtime';
import { Accepted, type HttpOperation } from '../operation';
import { EventRequestSchema } from '../../events/event-request';
import { parse } from '../validate';

/**
 * `POST /api/events { event, target?, data, idempotencyKey? }`: the publish API for services not
 * written in Node. The idempotency key may also come as an `Idempotency-Key` header (the header
 * wins if both are set); a replay answers 202 with the first request's id and
 * `Idempotent-Replayed: true`.
 */
export const PublishBody = EventRequestSchema.extend({
  idempotencyKey: z
    .string()
    .regex(IDEMPOTENCY_KEY_RE, '1-256 printable ASCII characters without spaces')
    .optional(),
});

export const IdempotencyHeader = z
  .string()
  .regex(IDEMPOTENCY_KEY_RE, '1-256 printable ASCII characters without spaces')
  .optional();

/**
 * The body as the OpenAPI document shows it: PublishBody once per catalog event, with that event's
 * payload schema as `data` and its room params as `target`. Documentation only: the route parses
 * PublishBody and then the catalog schema, so an unknown event answers 404 `unknown_event`.
 */
export const PublishBodyByEvent = z.discriminatedUnion(
  'event',
  listEvents().map((event) => {
    const required = paramsOutsidePayload(event);
    const target = z.object(
      Object.fromEntries(
        event.roomParams.map((param) => [param, required.includes(param) ? id : id.optional()]),
      ),
    );
    return PublishBody.extend({
      event: z.literal(event.name),
      target: required.length > 0 ? target : target.optional(),
      data: event.schema,
    }).meta({
      title: event.name,
      description: `${event.description} Room ${event.roomTemplate}${event.roomParams.length > 0 ? ': params from `target`, else from `data`' : ''}.`,
    });
  }) as unknown as [
    z.ZodObject<{ event: z.ZodLiteral<string> }>,
    ...z.ZodObject<{ event: z.ZodLiteral<string> }>[],
  ],
);

/** One `POST /api/events` body per catalog event, from the event's example in the catalog. */
export function publishExamples(): Record<
  string,
  { summary: string; value: { event: string; target?: Record<string, string>; data: unknown } }
> {
  return Object.fromEntries(
    listEvents().map((event) => [
      event.name,
      { summary: event.description, value: { event: event.name, ...exampleOf(event) } },
    ]),
  );
}

export const publishOperations: HttpOperation[] = [
  {
    method: 'post',
    path: '/api/events',
    operationId: 'publishEvent',
    tag: 'publish',
    auth: 'publish',
    summary: 'Publish one catalog event',
    description:
      'Validates `data` with the catalog schema of `event`, resolves the room from `target` (else from `data`), stores the event (a delivery batch, or the throttle store for throttled events) and answers before delivery. With an idempotency key (header or body; the header wins) a repeat answers the first id without publishing again.',
    headers: {
      'Idempotency-Key': {
        schema: IdempotencyHeader,
        description:
          'publish at most once per key (1-256 printable ASCII characters); wins over `idempotencyKey` in the body',
      },
    },
    body: PublishBodyByEvent,
    examples: publishExamples(),
    response: {
      status: 202,
      description:
        "accepted for delivery; `id` is the `meta.id` clients receive (for a throttled event: its window's id)",
      schema: Accepted,
      headers: {
        'Idempotent-Replayed':
          "`true` when the idempotency key was used before: `id` is that first request's event",
      },
    },
    errors: ['invalid_target', 'unknown_event', 'conflict', 'unavailable'],
  },
];

/** What a publish answers, whichever transport carried it (express below, or the hot routes). */
export interface PublishAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** `POST /api/events`: the parsed JSON body and the Idempotency-Key header in, the answer out. */
export async function publishOne(
  rt: Pick<Runtime, 'events'>,
  rawBody: unknown,
  idempotencyHeader: string | undefined,
): Promise<PublishAnswer> {
  const { idempotencyKey: bodyKey, ...body } = parse(PublishBody, rawBody, 'body');
  const idempotencyKey =
    parse(IdempotencyHeader, idempotencyHeader, 'Idempotency-Key header') ?? bodyKey;
  const accepted = await rt.events.publish(body, { idempotencyKey });
  return {
    status: 202,
    headers: accepted.replayed ? { 'Idempotent-Replayed': 'true' } : {},
    body: { id: accepted.id },
  };
}

export function publishRoutes(rt: Pick<Runtime, 'events'>): Router {
  const r = Router();
  r.post('/events', async (req, res) => {
    const answer = await publishOne(rt, req.body, req.get('idempotency-key'));
    res.set(answer.headers).status(answer.status).json(answer.body);
  });
  return r;
}
