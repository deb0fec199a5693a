import type { Socket } from 'socket.io';
import { z } from 'zod';
import type { SocketData } from '../auth/user';
import { userOf } from '../auth/user';
import { roomOf, ROOMS } from '../catalog';
import { ROOM_KINDS, type KindsIn, type RoomKind, type RoomKindEntry } from '../catalog/room-kinds';
import type { Namespace } from '../catalog/define';
import type { RoomParamNames } from '../catalog/define';
import { id, withExamples } from '../catalog/fields';
import { roomParamNames } from '../catalog/rooms';
import { GatewayError } from '../errors';
import { OFFSET_RE } from '../ids';
import { action, type ActionContext, type ActionDefinition } from './action';
import type { JoinResult } from './recovery';
import type { NoEvents } from './socket-types';

/**
 * The ids room action examples use: the catalog examples' user `42` for `userId` (only that user may
 * join `user:42`), `123` for the rest (`{ postId: '123' }`).
 */
const exampleId = (param: string) => (param === 'userId' ? '42' : '123');

/** The ids a room template names, as a handler gets them: `{ postId: string }` for `post:{postId}`. */
export type RoomIds<T extends string> = Record<RoomParamNames<T>, string>;
/** The same as a client may send them: an id may be a whole number too (catalog/fields `id`). */
type RoomIdsInput<T extends string> = Record<RoomParamNames<T>, string | number>;

/**
 * The payload schema of a room action on template T: its ids (`{ postId }`, each a catalog `id`)
 * and `extra` fields. Its examples: the ids alone, and the ids with `extraExample`. zod cannot
 * infer a type through keys read from the template at run time, so the schema is typed here,
 * once, by the template.
 */
function roomSchema<T extends string, X extends z.ZodRawShape>(
  template: T,
  extra: X,
  extraExample?: z.input<z.ZodObject<X>>,
): z.ZodType<RoomIds<T> & z.output<z.ZodObject<X>>, RoomIdsInput<T> & z.input<z.ZodObject<X>>> {
  const params = roomParamNames(template);
  const ids = Object.fromEntries(params.map((param) => [param, exampleId(param)]));
  const schema: z.ZodType = z.object({
    ...Object.fromEntries(params.map((param) => [param, id])),
    ...extra,
  });
  return withExamples(
    schema,
    ids,
    ...(extraExample ? [{ ...ids, ...extraExample }] : []),
  ) as z.ZodType<RoomIds<T> & z.output<z.ZodObject<X>>, RoomIdsInput<T> & z.input<z.ZodObject<X>>>;
}

/**
 * The ack data of a join: `{ room, offset }`, with `recovered` (and `incomplete`) after a join with
 * `since`, or `rewound` after one with `rewind`.
 */
export const JoinAck = z.object({
  room: z.string(),
  offset: z.string().regex(OFFSET_RE).meta({
    description:
      "the room's position when the join completed: its last history entry's id, `0-0` when it has none; every later event arrives live. Pass it (or a later meta.offset) as `since` when re-joining",
  }),
  recovered: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .meta({ description: 'events replayed (a join with `since`)' }),
  incomplete: z.literal(true).optional().meta({
    description: 'the history could not cover the gap: `recovery_incomplete` was sent too',
  }),
  rewound: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .meta({ description: "the room's last events sent first (a join with `rewind`)" }),
});
/** The ack data of a leave (and of the presence room's join). */
export const RoomAck = z.object({ room: z.string() });
export const TypingAck = z.object({ room: z.string(), typing: z.boolean() });

/** Throws `forbidden` unless the room authorizer lets this socket's user into the room. */
export async function requireAllowed(ctx: ActionContext, room: string): Promise<void> {
  if (!(await ctx.access.rooms.canJoin(userOf(ctx.socket), room)))
    throw new GatewayError('forbidden', `not allowed in ${room}`);
}

/** Throws `too_many_rooms` when joining `room` would put the socket past MAX_ROOMS_PER_SOCKET. */
export function requireRoomBudget(ctx: ActionContext, room: string): void {
  const max = ctx.deps.config.MAX_ROOMS_PER_SOCKET;
  // Rooms the gateway put the socket in are not counted: its private room (its id) and its own
  // user's room (joined on connect where the catalog sends per-user events).
  const user = userOf(ctx.socket);
  const given =
    1 + (!user.anonymous && ctx.socket.rooms.has(roomOf(ROOMS.user, { userId: user.id })) ? 1 : 0);
  if (!ctx.socket.rooms.has(room) && ctx.socket.rooms.size - given >= max) {
    throw new GatewayError(
      'too_many_rooms',
      `a socket may be in at most ${max} rooms (MAX_ROOMS_PER_SOCKET); leave one first`,
    );
  }
}

/**
 * `join_x { xId, since?, rewind? }`: joins the room if the authorizer allows it (`forbidden`
 * otherwise) and acks `{ room, offset }`, the room's position. With `since` (the last meta.offset
 * the client saw in that room, e.g. after a reconnect, or a position its backend read before a
 * snapshot) it first replays the missed events, flagged `meta.recovered`, and acks
 * `recovered: n`; or emits `recovery_incomplete { room }` if the history cannot cover it. Without
 * `since`, `rewind: n` (0-100) first sends the room's last n events, flagged `meta.rewound`.
 */
export function joinRoomAction<T extends string>(template: T) {
  const since = z
    .string()
    .regex(OFFSET_RE, 'must be a meta.offset such as 1700000000000-0')
    .optional();
  const rewind = z
    .number()
    .int()
    .min(0)
    .max(MAX_REWIND)
    .optional()
    .meta({ description: `send the room's last n events first (0-${MAX_REWIND}); \`since\` wins` });
  return action(
    roomSchema(template, { since, rewind }, { since: '1763889503572-0' }),
    async (input, ctx): Promise<JoinResult> => {
      const room = roomOf(template, input);
      requireRoomBudget(ctx, room);
      await requireAllowed(ctx, room);
      return ctx.recovery.join(ctx.socket, room, { since: input.since, rewind: input.rewind });
    },
    {
      description: `Joins ${template} if the room authorizer allows it and acks the room's position (\`offset\`); with \`since\` (a meta.offset seen there, or a position read before a snapshot) first replays the events missed since then; else with \`rewind: n\` first sends the room's last n events.`,
      ack: JoinAck,
      room: template,
    },
  );
}

/** Most events a join's `rewind` asks for. */
export const MAX_REWIND = 100;

/** Join and leave actions for a room without params (e.g. `presence`). */
export function fixedRoomActions(room: string) {
  return {
    join: action(
      withExamples(z.object({}), {}),
      async (_input, ctx): Promise<JoinResult> => {
        requireRoomBudget(ctx, room);
        await requireAllowed(ctx, room);
        return ctx.recovery.join(ctx.socket, room);
      },
      {
        description: `Joins ${room} if the room authorizer allows it and acks the room's position (\`offset\`).`,
        ack: JoinAck,
        room,
      },
    ),
    leave: action(
      withExamples(z.object({}), {}),
      async (_input, ctx) => {
        await ctx.socket.leave(room);
        return { room };
      },
      { description: `Leaves ${room} (a no-op if not in it).`, ack: RoomAck, room },
    ),
  };
}

/** `leave_x { xId }`: leaves the room (a no-op if not in it) and acks `{ room }`. */
export function leaveRoomAction<T extends string>(template: T) {
  return action(
    roomSchema(template, {}),
    async (input, ctx) => {
      const room = roomOf(template, input);
      await ctx.socket.leave(room);
      return { room };
    },
    { description: `Leaves ${template} (a no-op if not in it).`, ack: RoomAck, room: template },
  );
}

type HasParams<K extends RoomKind> = (typeof ROOMS)[K] extends `${string}{${string}}${string}`
  ? true
  : false;
type JoinOf<K extends RoomKind> =
  HasParams<K> extends true
    ? ReturnType<typeof joinRoomAction<(typeof ROOMS)[K]>>
    : ReturnType<typeof fixedRoomActions>['join'];
type LeaveOf<K extends RoomKind> =
  HasParams<K> extends true
    ? ReturnType<typeof leaveRoomAction<(typeof ROOMS)[K]>>
    : ReturnType<typeof fixedRoomActions>['leave'];

/** The room actions of a namespace: `join_order` and `leave_order` on /orders. */
export type RoomActionsIn<NS extends Namespace> = {
  [K in KindsIn<NS> as `join_${K}`]: JoinOf<K>;
} & { [K in KindsIn<NS> as `leave_${K}`]: LeaveOf<K> };

/**
 * `join_<kind>` and `leave_<kind>` for every kind the room table (src/catalog/room-kinds.ts) puts
 * in namespace `ns`: on /orders, `join_order { orderId, since? }` and `leave_order { orderId }`;
 * a kind without params (`presence`) takes `{}`.
 */
export function roomActionsIn<NS extends Namespace>(ns: NS): RoomActionsIn<NS> {
  const actions: Record<string, ActionDefinition> = {};
  for (const [kind, entry] of Object.entries(ROOM_KINDS) as Array<[RoomKind, RoomKindEntry]>) {
    if (entry.namespace !== ns) continue;
    const params = roomParamNames(entry.template).length > 0;
    const fixed = params ? undefined : fixedRoomActions(entry.template);
    actions[`join_${kind}`] = fixed ? fixed.join : joinRoomAction(entry.template);
    actions[`leave_${kind}`] = fixed ? fixed.leave : leaveRoomAction(entry.template);
  }
  return actions as RoomActionsIn<NS>;
}

/** Throws `not_joined` unless the socket is in the room: only members may type or post there. */
export function requireJoined(ctx: ActionContext, room: string): void {
  if (!ctx.socket.rooms.has(room)) throw new GatewayError('not_joined', `join ${room} first`);
}

/** The event typing actions relay to the room. */
export const TYPING_EVENT = 'typing';

/** An event a namespace relays from one client to the others: its payload schema, for types and specs. */
export interface RelayDefinition<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  readonly room: string;
  readonly description: string;
}

/** What `typing` carries in a room of template T: `{ postId, userId?, typing }`. */
export type TypingPayload<T extends string> = RoomIds<T> & {
  userId?: string | undefined;
  typing: boolean;
};

/** `typing { xId, userId?, typing }`, sent by typingAction to the rest of the room. */
export function typingRelay<T extends string>(template: T) {
  return {
    schema: roomSchema(
      template,
      { userId: z.string().optional(), typing: z.boolean() },
      { userId: '42', typing: true },
    ),
    room: template,
    description: `Another member of ${template} started or stopped typing (typing_start / typing_stop); never sent back to the typist. \`userId\` is absent for anonymous sockets.`,
  } satisfies RelayDefinition<z.ZodType<TypingPayload<T>>>;
}

/**
 * `typing_start` / `typing_stop { xId }`: relays the namespace's `typing` relay (`{ xId, userId?,
 * typing }`) to everyone else in the room, on every gateway (through the adapter), never back to
 * the sender. Given the relay the namespace declares, so what it sends is what the module's
 * relay (and the client's type of `typing`) says.
 */
function typingAction<T extends string>(relay: ReturnType<typeof typingRelay<T>>, typing: boolean) {
  const template = relay.room;
  // Unordered: no Redis call, so it never waits behind the socket's earlier actions.
  return action(
    roomSchema(template, {}),
    (input, ctx) => {
      const room = roomOf(template, input);
      requireJoined(ctx, room);
      const user = userOf(ctx.socket);
      const payload: TypingPayload<T> = {
        ...input,
        typing,
        ...(user.anonymous ? {} : { userId: user.id }),
      };
      // The namespace's socket, seen through the relay's event alone. Socket.IO's emit types do not
      // resolve for a generic template, so the emit is checked against any room's typing payload and
      // the payload, above, against this template's.
      const relaying: Socket<
        NoEvents,
        Record<typeof TYPING_EVENT, (data: TypingPayload<string>) => void>,
        NoEvents,
        SocketData
      > = ctx.socket;
      relaying.to(room).emit(TYPING_EVENT, payload);
      return { room, typing };
    },
    {
      ordered: false,
      description: `Tells the others in ${template} that this user ${typing ? 'started' : 'stopped'} typing (\`${TYPING_EVENT}\`); only after joining the room.`,
      ack: TypingAck,
      room: template,
    },
  );
}

/**
 * `typing_start` and `typing_stop` for rooms of template T, sending what `typingRelay(T)` (the
 * relay the namespace declares) describes.
 */
export function typingActions<T extends string>(template: T) {
  const relay = typingRelay(template);
  return { typing_start: typingAction(relay, true), typing_stop: typingAction(relay, false) };
}

/** The events a namespace relays between clients, by name (see registry.ts for their listener types). */
export function relays<const R extends Record<string, RelayDefinition>>(definitions: R): R {
  return definitions;
}
