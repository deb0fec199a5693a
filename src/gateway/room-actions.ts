import { z } from 'zod';
import { roomOf, ROOMS } from '../catalog';
import { id, withExamples } from '../catalog/fields';
import { userOf } from '../auth/user';
import { GatewayError } from '../errors';
import { OFFSET_RE } from '../ids';
import { action, type ActionContext } from './action';

/**
 * The ids room action examples use: the catalog examples' user `42` for `userId` (only that user may
 * join `user:42`), `123` for the rest (`{ postId: '123' }`).
 */
const exampleId = (param: string) => (param === 'userId' ? '42' : '123');

/** The payload of a room action: one id named after the template's param, e.g. `{ postId }`. */
function idPayload<P extends string>(param: P) {
  return z.object({ [param]: id } as Record<P, typeof id>);
}

function idExample<P extends string>(param: P): Record<P, string> {
  return { [param]: exampleId(param) } as Record<P, string>;
}

/** The ack data of a join: `{ room }`, with `recovered` (and `incomplete`) after a join with `since`. */
export const JoinAck = z.object({
  room: z.string(),
  recovered: z.number().int().nonnegative().optional().meta({ description: 'events replayed (a join with `since`)' }),
  incomplete: z.literal(true).optional().meta({ description: 'the history could not cover the gap: `recovery_incomplete` was sent too' }),
});
/** The ack data of a leave (and of the presence room's join). */
export const RoomAck = z.object({ room: z.string() });
export const TypingAck = z.object({ room: z.string(), typing: z.boolean() });

function roomFor<P extends string>(template: string, param: P, input: Record<P, string>): string {
  return roomOf(template, { [param]: input[param] } as never);
}

/** Throws `forbidden` unless the room authorizer lets this socket's user into the room. */
export async function requireAllowed(ctx: ActionContext, room: string): Promise<void> {
  if (!(await ctx.access.rooms.canJoin(userOf(ctx.socket), room))) throw new GatewayError('forbidden', `not allowed in ${room}`);
}

/** Throws `too_many_rooms` when joining `room` would put the socket past MAX_ROOMS_PER_SOCKET. */
export function requireRoomBudget(ctx: ActionContext, room: string): void {
  const max = ctx.deps.config.MAX_ROOMS_PER_SOCKET;
  // Rooms the gateway put the socket in are not counted: its private room (its id) and its own
  // user's room (joined on connect where the catalog sends per-user events).
  const user = userOf(ctx.socket);
  const given = 1 + (!user.anonymous && ctx.socket.rooms.has(roomOf(ROOMS.user, { userId: user.id })) ? 1 : 0);
  if (!ctx.socket.rooms.has(room) && ctx.socket.rooms.size - given >= max) {
    throw new GatewayError('too_many_rooms', `a socket may be in at most ${max} rooms (MAX_ROOMS_PER_SOCKET); leave one first`);
  }
}

/**
 * `join_x { xId, since? }`: joins the room if the authorizer allows it (`forbidden` otherwise) and
 * acks `{ room }`. With `since` (the last meta.offset the client saw in that room, e.g. after a
 * reconnect) it first replays the missed events, flagged `meta.recovered`, and acks
 * `{ room, recovered: n }`; or emits `recovery_incomplete { room }` if the history cannot cover it.
 */
export function joinRoomAction<P extends string>(template: string, param: P) {
  const schema = withExamples(
    idPayload(param).extend({ since: z.string().regex(OFFSET_RE, 'must be a meta.offset such as 1700000000000-0').optional() }),
    idExample(param) as never,
    { ...idExample(param), since: '1763889503572-0' } as never,
  );
  return action(
    schema,
    async (input, ctx): Promise<{ room: string; recovered?: number; incomplete?: true }> => {
      const room = roomFor(template, param, input as unknown as Record<P, string>);
      requireRoomBudget(ctx, room);
      await requireAllowed(ctx, room);
      const { since } = input as { since?: string };
      if (since !== undefined) return ctx.recovery.rejoin(ctx.socket, room, since);
      await ctx.socket.join(room);
      return { room };
    },
    {
      description: `Joins ${template} if the room authorizer allows it; with \`since\` (the last meta.offset seen there) first replays the events missed since then.`,
      ack: JoinAck,
      room: template,
    },
  );
}

/** Join and leave actions for a room without params (e.g. `presence`). */
export function fixedRoomActions(room: string) {
  return {
    join: action(
      withExamples(z.object({}), {}),
      async (_input, ctx) => {
        requireRoomBudget(ctx, room);
        await requireAllowed(ctx, room);
        await ctx.socket.join(room);
        return { room };
      },
      { description: `Joins ${room} if the room authorizer allows it.`, ack: RoomAck, room },
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
export function leaveRoomAction<P extends string>(template: string, param: P) {
  return action(
    withExamples(idPayload(param), idExample(param) as never),
    async (input, ctx) => {
      const room = roomFor(template, param, input as Record<P, string>);
      await ctx.socket.leave(room);
      return { room };
    },
    { description: `Leaves ${template} (a no-op if not in it).`, ack: RoomAck, room: template },
  );
}

/** Throws `not_joined` unless the socket is in the room: only members may type or post there. */
export function requireJoined(ctx: ActionContext, room: string): void {
  if (!ctx.socket.rooms.has(room)) throw new GatewayError('not_joined', `join ${room} first`);
}

/**
 * `typing_start` / `typing_stop { xId }`: relays `typing { xId, userId?, typing }` to everyone else
 * in the room, on every gateway (through the adapter), never back to the sender.
 */
export function typingAction<P extends string>(template: string, param: P, typing: boolean) {
  // Unordered: no Redis call, so it never waits behind the socket's earlier actions.
  return action(
    withExamples(idPayload(param), idExample(param) as never),
    (input, ctx) => {
      const room = roomFor(template, param, input as Record<P, string>);
      requireJoined(ctx, room);
      const user = userOf(ctx.socket);
      const userId = user.anonymous ? undefined : user.id;
      const payload = { [param]: (input as Record<P, string>)[param], typing, ...(userId ? { userId } : {}) };
      ctx.socket.to(room).emit(TYPING_EVENT, payload);
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

/** The event typing actions relay to the room. */
export const TYPING_EVENT = 'typing';

/** An event a namespace relays from one client to the others: its payload schema, for types and specs. */
export interface RelayDefinition<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  readonly room: string;
  readonly description: string;
}

/** `typing { xId, userId?, typing }`, sent by typingAction to the rest of the room. */
export function typingRelay<P extends string>(template: string, param: P) {
  const shape = { [param]: z.string(), userId: z.string().optional(), typing: z.boolean() } as Record<P, z.ZodString> & {
    userId: z.ZodOptional<z.ZodString>;
    typing: z.ZodBoolean;
  };
  return {
    schema: withExamples(z.object(shape), { ...idExample(param), userId: '42', typing: true } as never),
    room: template,
    description: `Another member of ${template} started or stopped typing (typing_start / typing_stop); never sent back to the typist. \`userId\` is absent for anonymous sockets.`,
  } satisfies RelayDefinition;
}

/** The events a namespace relays between clients, by name (see registry.ts for their listener types). */
export function relays<const R extends Record<string, RelayDefinition>>(definitions: R): R {
  return definitions;
}
