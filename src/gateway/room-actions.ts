import { z } from 'zod';
import { roomOf } from '../catalog';
import { id } from '../catalog/fields';
import { userOf } from '../auth/user';
import { GatewayError } from '../errors';
import { OFFSET_RE } from '../history/room-history';
import { action, type ActionContext } from './action';

/** The payload of a room action: one id named after the template's param, e.g. `{ postId }`. */
function idPayload<P extends string>(param: P) {
  return z.object({ [param]: id } as Record<P, typeof id>);
}

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
  // socket.rooms holds the socket's own private room (its id) too, which is not counted.
  if (!ctx.socket.rooms.has(room) && ctx.socket.rooms.size - 1 >= max) {
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
  const schema = idPayload(param).extend({ since: z.string().regex(OFFSET_RE, 'must be a meta.offset such as 1700000000000-0').optional() });
  return action(schema, async (input, ctx): Promise<{ room: string; recovered?: number; incomplete?: true }> => {
    const room = roomFor(template, param, input as unknown as Record<P, string>);
    requireRoomBudget(ctx, room);
    await requireAllowed(ctx, room);
    const { since } = input as { since?: string };
    if (since !== undefined) return ctx.recovery.rejoin(ctx.socket, room, since);
    await ctx.socket.join(room);
    return { room };
  });
}

/** Join and leave actions for a room without params (e.g. `presence`). */
export function fixedRoomActions(room: string) {
  return {
    join: action(z.object({}), async (_input, ctx) => {
      requireRoomBudget(ctx, room);
      await requireAllowed(ctx, room);
      await ctx.socket.join(room);
      return { room };
    }),
    leave: action(z.object({}), async (_input, ctx) => {
      await ctx.socket.leave(room);
      return { room };
    }),
  };
}

/** `leave_x { xId }`: leaves the room (a no-op if not in it) and acks `{ room }`. */
export function leaveRoomAction<P extends string>(template: string, param: P) {
  return action(idPayload(param), async (input, ctx) => {
    const room = roomFor(template, param, input as Record<P, string>);
    await ctx.socket.leave(room);
    return { room };
  });
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
  return action(idPayload(param), (input, ctx) => {
    const room = roomFor(template, param, input as Record<P, string>);
    requireJoined(ctx, room);
    const userId = (ctx.socket.data as { user?: { id: string } }).user?.id;
    const payload = { [param]: (input as Record<P, string>)[param], typing, ...(userId ? { userId } : {}) };
    ctx.socket.to(room).emit('typing', payload);
    return { room, typing };
  }, { ordered: false });
}

/** The phantom type of events a namespace relays between clients (no runtime value). */
export function relays<T>(): T {
  return undefined as T;
}
