import { z } from 'zod';
import { examplesOf } from './fields';
import type { Delivery } from './define';
import { listEvents, type ResolvedEvent } from './index';

/** A publish that fits an event: its payload and, where the payload lacks a room param, a target. */
export interface EventExample {
  data: unknown;
  target?: Record<string, string>;
}

/** One catalog entry as plain JSON: what `sb events`, the console and the specs show. */
export interface EventDescription {
  name: string;
  namespace: string;
  room: string;
  roomParams: readonly string[];
  delivery: ResolvedEvent['delivery'];
  history: ResolvedEvent['history'];
  description: string;
  /** The payload's JSON Schema, input side: what a publisher sends. */
  schema: unknown;
  /** The entry's first example (`withExamples` in the catalog). */
  example: EventExample;
}

/** The room params an event's payload does not carry, which `target` must name (`notification`: userId). */
export function paramsOutsidePayload(event: ResolvedEvent): string[] {
  const shape =
    event.schema instanceof z.ZodObject ? (event.schema.shape as Record<string, unknown>) : {};
  return event.roomParams.filter((param) => !Object.hasOwn(shape, param));
}

/**
 * The entry's first example as a publish (`target` with `42` for params outside the payload). Every
 * entry has one: the catalog refuses an entry without (src/catalog/index.ts).
 */
export function exampleOf(event: ResolvedEvent): EventExample {
  const [data] = examplesOf(event.schema);
  const missing = paramsOutsidePayload(event);
  return missing.length > 0
    ? { data, target: Object.fromEntries(missing.map((param) => [param, '42'])) }
    : { data };
}

export function describeEvent(event: ResolvedEvent): EventDescription {
  return {
    name: event.name,
    namespace: event.namespace,
    room: event.roomTemplate,
    roomParams: event.roomParams,
    delivery: event.delivery,
    history: event.history,
    description: event.description,
    schema: z.toJSONSchema(event.schema, { unrepresentable: 'any', io: 'input' }),
    example: exampleOf(event),
  };
}

let described: EventDescription[] | undefined;

/** Every catalog entry, described once per process (the catalog does not change at runtime). */
export function describeEvents(): readonly EventDescription[] {
  described ??= listEvents().map(describeEvent);
  return described;
}

/** `throttle 1000 ms, latest` and the like, for descriptions and the CLI. */
export function describeDelivery(delivery: Delivery): string {
  if (delivery.kind === 'immediate') return 'immediate';
  return delivery.mode === 'batch'
    ? `throttle ${delivery.windowMs} ms, batch of at most ${delivery.maxItems}`
    : `throttle ${delivery.windowMs} ms, ${delivery.mode}`;
}
