import { z } from 'zod';
import { GatewayError } from '../errors';
import type { SameShape } from '../same-shape';
import { isSafeSegment, OFFSET_RE } from '../ids';
import { catalog } from './events';
import { ROOM_PARAM_RE, ROOMS, roomParamNames } from './rooms';
import { examplesOf } from './fields';
import {
  NAMESPACES,
  type Delivery,
  type EventDefinition,
  type Namespace,
  type RoomParams,
} from './define';

export { catalog } from './events';
export * from './define';
export { ROOMS, roomOf } from './rooms';

// ---- Types derived from the catalog -------------------------------------------------------------

export type Catalog = typeof catalog;
export type EventName = Extract<keyof Catalog, string>;
/** What a publisher passes (before zod defaults and transforms). */
export type PayloadOf<E extends EventName> = z.input<Catalog[E]['schema']>;
/** What the schema produces, and what a client receives for an immediate or `latest` event. */
export type DataOf<E extends EventName> = z.output<Catalog[E]['schema']>;
/** The values that pick the room, e.g. `{ postId }` for `post:{postId}`. */
export type TargetOf<E extends EventName> = RoomParams<Catalog[E]['room']>;
export type EventsIn<NS extends Namespace> = {
  [E in EventName]: Catalog[E]['namespace'] extends NS ? E : never;
}[EventName];
/** Events whose room template is exactly R, e.g. every event that goes to `post:{postId}`. */
export type EventsWithRoom<R extends string> = {
  [E in EventName]: Catalog[E]['room'] extends R ? E : never;
}[EventName];

import type { EventMeta } from './event-meta';

export type { EventMeta };

/** EventMeta as a schema, for the AsyncAPI document (src/specs/asyncapi.ts). */
export const EventMetaSchema = z.object({
  id: z.string().meta({
    description:
      "UUIDv7 made at accept (a throttled emit: its window's id); stable across retries: de-duplicate on it",
  }),
  ts: z.number().int().nonnegative().meta({
    description:
      'ms since epoch when the event was accepted (a coalesced emit: when its window flushed)',
  }),
  ns: z.enum(NAMESPACES),
  room: z.string().meta({ description: 'the room the event went to, e.g. post:123' }),
  coalesced: z
    .number()
    .int()
    .positive()
    .optional()
    .meta({ description: 'throttled events: how many accepted events this emit stands for' }),
  offset: z.string().regex(OFFSET_RE).optional().meta({
    description:
      "position in the room's history (a Redis stream id); absent for events without history. Re-join with `since` set to the last one seen",
  }),
  recovered: z
    .literal(true)
    .optional()
    .meta({ description: 'replayed by recovery after a re-join with `since`' }),
  rewound: z
    .literal(true)
    .optional()
    .meta({ description: "one of the room's last events, sent by a join with `rewind`" }),
});
true satisfies SameShape<z.output<typeof EventMetaSchema>, EventMeta>;

/** A `batch` event arrives as `{ items }`; every other event arrives as its payload. */
export type DeliveredData<E extends EventName> = Catalog[E]['delivery'] extends { mode: 'batch' }
  ? { items: DataOf<E>[] }
  : DataOf<E>;

/** Server-to-client event map of one namespace, for `io<ServerToClientEvents<'/social'>>()`. */
export type ServerToClientEvents<NS extends Namespace> = {
  [E in EventsIn<NS>]: (data: DeliveredData<E>, meta: EventMeta) => void;
};

// ---- Runtime index ------------------------------------------------------------------------------

export interface ResolvedEvent {
  readonly name: string;
  readonly namespace: Namespace;
  readonly roomTemplate: string;
  readonly roomParams: readonly string[];
  readonly schema: z.ZodType;
  readonly delivery: Delivery;
  readonly description: string;
  readonly history: EventDefinition['history'];
}

function resolve(name: string, def: EventDefinition): ResolvedEvent {
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    throw new Error(`catalog: event name ${name} must be snake_case`);
  const roomParams = roomParamNames(def.room);
  // The specs, the console and `sb events` show each event's example; a wrong one does not compile.
  if (examplesOf(def.schema).length === 0)
    throw new Error(
      `catalog: event ${name} needs an example: wrap its schema in withExamples(schema, example)`,
    );
  return Object.freeze({
    name,
    namespace: def.namespace,
    roomTemplate: def.room,
    roomParams: Object.freeze(roomParams),
    schema: def.schema,
    delivery: def.delivery,
    description: def.description,
    history: def.history,
  });
}

const index: ReadonlyMap<string, ResolvedEvent> = new Map(
  Object.entries(catalog as Record<string, EventDefinition>).map(([name, def]) => [
    name,
    resolve(name, def),
  ]),
);

/** Looks an event up by its wire name; `unknown_event` if the catalog has no such entry. */
export function lookupEvent(name: unknown): ResolvedEvent {
  const entry = typeof name === 'string' ? index.get(name) : undefined;
  if (!entry) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name;
    throw new GatewayError('unknown_event', `unknown event ${shown}`);
  }
  return entry;
}

export function listEvents(): ResolvedEvent[] {
  return [...index.values()];
}

/**
 * The namespaces the catalog sends per-user events to (room `user:{userId}`): there a signed-in
 * socket is put in its own user's room on connect, as no client action joins it.
 */
export const USER_ROOM_NAMESPACES: ReadonlySet<Namespace> = new Set(
  [...index.values()]
    .filter((event) => event.roomTemplate === ROOMS.user)
    .map((event) => event.namespace),
);

/**
 * Builds the room name from the template. Each param is taken from `target`, else from the
 * payload (so `emit('post_liked', { postId: '1', ... })` needs no separate target).
 */
export function resolveRoom(entry: ResolvedEvent, target: unknown, payload: unknown): string {
  if (entry.roomParams.length === 0) return entry.roomTemplate;
  const from = (source: unknown, key: string): unknown =>
    source !== null && typeof source === 'object' && Object.hasOwn(source, key)
      ? (source as Record<string, unknown>)[key]
      : undefined;
  return entry.roomTemplate.replace(ROOM_PARAM_RE, (_, key: string) => {
    const raw = from(target, key) ?? from(payload, key);
    const value = typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 ? String(raw) : raw;
    if (typeof value !== 'string' || !isSafeSegment(value)) {
      throw new GatewayError(
        'invalid_target',
        raw === undefined
          ? `target.${key} is required for room ${entry.roomTemplate}`
          : `target.${key} must be 1-128 characters of letters, digits, _ . : @ -`,
        {
          issues: [
            { path: ['target', key], message: raw === undefined ? 'required' : 'invalid id' },
          ],
        },
      );
    }
    return value;
  });
}
