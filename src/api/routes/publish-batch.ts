import express, { Router } from 'express';
import { z } from 'zod';
import { ErrorBodySchema, GatewayError, toGatewayError, type ErrorBody } from '../../errors';
import type { Accepted } from '../../events/event-manager';
import { jsonSize } from '../../limits/json-size';
import { logger } from '../../logger';
import type { Runtime } from '../../runtime';
import type { SameShape } from '../../same-shape';
import { EventId, type HttpOperation } from '../operation';
import { parse } from '../validate';
import { PublishBody, PublishBodyByEvent, publishExamples, type PublishAnswer } from './publish';

const log = logger('http');

/** The envelope of a batch; its length (1..PUBLISH_BATCH_MAX, from config) is checked on its own. */
const BatchBody = z.object({ events: z.array(z.unknown()) });

/** One slot of the answer, in item order. */
export type BatchItemResult = { id: string; replayed?: true } | { error: ErrorBody };

export interface BatchAnswer {
  accepted: number;
  rejected: number;
  results: BatchItemResult[];
}

export const BatchAnswerSchema = z.object({
  accepted: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  results: z
    .array(
      z.union([
        z.object({ id: EventId, replayed: z.literal(true).optional() }),
        z.object({ error: ErrorBodySchema }),
      ]),
    )
    .meta({
      description:
        'one per item, in item order: `{ id }`, `{ id, replayed: true }` (idempotency key used before) or `{ error }`',
    }),
});
true satisfies SameShape<z.output<typeof BatchAnswerSchema>, BatchAnswer>;

/** The body as the OpenAPI document shows it: each item is a `POST /api/events` body. */
const BatchBodyByEvent = z.object({
  events: z.array(PublishBodyByEvent).min(1).meta({
    description:
      'at most PUBLISH_BATCH_MAX items (default 1000); each validated and accepted on its own',
  }),
});

export const publishBatchOperations: HttpOperation[] = [
  {
    method: 'post',
    path: '/api/events/batch',
    operationId: 'publishEvents',
    tag: 'publish',
    auth: 'publish',
    summary: 'Publish many catalog events in one request',
    description:
      "Each item is a `POST /api/events` body (keys go on the items as `idempotencyKey`) and is validated and accepted on its own: a bad item rejects only itself. Items without an idempotency key are queued in item order. The body may be up to PUBLISH_BATCH_MAX_BYTES (4 MiB); each item's data is held to MAX_PAYLOAD_BYTES.",
    body: BatchBodyByEvent,
    examples: {
      everyEvent: {
        summary: 'one item per catalog event',
        value: { events: Object.values(publishExamples()).map((example) => example.value) },
      },
    },
    response: {
      status: 200,
      description: 'one result per item, in item order',
      schema: BatchAnswerSchema,
    },
    errors: ['unavailable'],
  },
];

/**
 * `POST /api/events/batch { events: [{ event, target?, data, idempotencyKey? }, ...] }`: many
 * publishes in one request, each item exactly like a `POST /api/events` body.
 *
 * Decision: **one bad item rejects only itself.** Every item is validated and published on its
 * own (all in the same tick, so the EventManager packs them into one or a few delivery jobs, in
 * item order), and the answer is 200 `{ accepted, rejected, results }` with one slot per item, in
 * item order: `{ id }`, `{ id, replayed: true }` (idempotency key already used), or `{ error }`
 * (`invalid_payload`, `unknown_event`, `invalid_target`, `payload_too_large` when the item's data
 * JSON exceeds MAX_PAYLOAD_BYTES, `conflict`, `unavailable`, ...). A caller retries only the
 * failed slots; idempotency keys make that safe.
 *
 * Whole-request errors: 400 `invalid_json` (not JSON), 400 `invalid_payload` (not
 * `{ events: [...] }`, 0 or more than PUBLISH_BATCH_MAX items, or an `Idempotency-Key` header,
 * which a batch does not take: keys go on the items), 413 `payload_too_large` (body over
 * PUBLISH_BATCH_MAX_BYTES), and 503 `unavailable` when every item failed with `unavailable`
 * (Redis is away; nothing was accepted).
 */
/** Deeper than any catalog payload: what passes is measured, the rest refused before any recursive walk. */
const MAX_DATA_DEPTH = 32;

/** `POST /api/events/batch`'s core: the parsed JSON body and the Idempotency-Key header in, the answer out. */
export function batchPublisher(
  rt: Pick<Runtime, 'config' | 'events'>,
): (rawBody: unknown, idempotencyHeader: string | undefined) => Promise<PublishAnswer> {
  const { PUBLISH_BATCH_MAX: maxItems, MAX_PAYLOAD_BYTES: maxDataBytes } = rt.config;
  /** Validates one item and calls publish before its first await, so all items go out in one tick. */
  const publishItem = async (item: unknown, index: number): Promise<Accepted> => {
    const parsed = PublishBody.safeParse(item);
    if (!parsed.success)
      throw GatewayError.fromZod(parsed.error, 'invalid_payload', `events[${index}]`);
    const { idempotencyKey, ...input } = parsed.data;
    // Measured without recursion and before the catalog's schema sees it: a `data` nested thousands
    // deep must be an invalid_payload of its own item, not a stack overflow (internal) per item.
    const size = jsonSize(input.data ?? null, MAX_DATA_DEPTH, maxDataBytes);
    if (!size.ok && size.reason === 'too_deep') {
      throw new GatewayError(
        'invalid_payload',
        `events[${index}].data is nested deeper than ${MAX_DATA_DEPTH} levels`,
        {
          issues: [
            {
              path: ['events', index, 'data'],
              message: `nested deeper than ${MAX_DATA_DEPTH} levels`,
            },
          ],
        },
      );
    }
    if (!size.ok)
      throw new GatewayError(
        'payload_too_large',
        `events[${index}].data is over ${maxDataBytes} bytes; at most ${maxDataBytes} per event`,
      );
    return rt.events.publish(input, { idempotencyKey });
  };

  return async (
    rawBody: unknown,
    idempotencyHeader: string | undefined,
  ): Promise<PublishAnswer> => {
    if (idempotencyHeader !== undefined) {
      throw new GatewayError(
        'invalid_payload',
        'a batch takes no Idempotency-Key header; set idempotencyKey on each item',
      );
    }
    const { events } = parse(BatchBody, rawBody, 'body');
    if (events.length === 0 || events.length > maxItems) {
      const message = `must hold 1 to ${maxItems} events (got ${events.length})`;
      throw new GatewayError('invalid_payload', `invalid body at events: ${message}`, {
        issues: [{ path: ['events'], message }],
      });
    }

    const settled = await Promise.allSettled(events.map(publishItem));
    const answer: BatchAnswer = { accepted: 0, rejected: 0, results: [] };
    const errors: GatewayError[] = [];
    for (const outcome of settled) {
      if (outcome.status === 'fulfilled') {
        answer.accepted += 1;
        answer.results.push(
          outcome.value.replayed
            ? { id: outcome.value.id, replayed: true }
            : { id: outcome.value.id },
        );
      } else {
        const error = toGatewayError(outcome.reason);
        if (error.code === 'internal') log.error({ err: outcome.reason }, 'batch item failed');
        errors.push(error);
        answer.rejected += 1;
        answer.results.push({ error: error.toJSON() });
      }
    }
    // Nothing accepted because Redis is away: answer like the single route, so callers retry.
    if (errors.length === events.length && errors.every((e) => e.code === 'unavailable'))
      throw errors[0] as GatewayError;
    return { status: 200, headers: {}, body: answer };
  };
}

export function publishBatchRoutes(rt: Pick<Runtime, 'config' | 'events'>): Router {
  const publishMany = batchPublisher(rt);
  const r = Router();
  r.post(
    '/events/batch',
    express.json({ limit: rt.config.PUBLISH_BATCH_MAX_BYTES }),
    async (req, res) => {
      const answer = await publishMany(req.body, req.get('idempotency-key'));
      res.status(answer.status).json(answer.body);
    },
  );
  return r;
}
