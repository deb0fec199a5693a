import { z } from 'zod';
import { withExamples } from '../../catalog/fields';
import { maySeePresence, presenceRefusal } from '../../auth/presence-access';
import { userOf } from '../../auth/user';
import { GatewayError } from '../../errors';
import { isSafeSegment } from '../../ids';
import { action } from '../action';
import { presenceNs } from '../presence-hooks';
import { requireAllowed } from '../room-actions';

/** A room name as clients see them: `post:1`, `presence`, `admin`. */
const roomName = z
  .string()
  .refine(isSafeSegment, 'must be a room name such as post:1')
  .meta({ description: 'a room name such as post:1' });

/** Actions every namespace answers. */
export const commonActions = {
  /** The rooms this socket is in, its own private room (its id) left out. */
  get_rooms: action(
    withExamples(z.object({}), {}),
    (_input, { socket }) => [...socket.rooms].filter((room) => room !== socket.id),
    {
      description: 'The rooms this socket is in, its own private room (its id) left out.',
      ack: z.array(z.string()),
    },
  ),
  /** Round-trip check; `pong` is the server's clock in ms, for latency and skew estimates. */
  ping: action(withExamples(z.object({}), {}), () => ({ pong: Date.now() }), {
    ordered: false,
    description: "Round-trip check; `pong` is the server's clock in ms.",
    ack: z.object({ pong: z.number().int() }),
  }),
  /**
   * `get_presence { room }`: ids of the users with a socket in that room of this namespace, on any
   * gateway. Only for callers who may join the room themselves and may see presence (signed in,
   * PRESENCE_ROLE when set): `forbidden` otherwise.
   */
  get_presence: action(
    withExamples(z.object({ room: roomName }), { room: 'post:123' }),
    async ({ room }, ctx) => {
      const user = userOf(ctx.socket);
      if (!maySeePresence(user, ctx.deps.config))
        throw new GatewayError('forbidden', presenceRefusal(user, ctx.deps.config));
      await requireAllowed(ctx, room);
      return { room, users: await ctx.access.presence.inRoom(presenceNs(ctx.nsp.name), room) };
    },
    {
      description:
        'Ids of the users with a socket in that room of this namespace, on any gateway; only for signed-in callers who may join the room (and have PRESENCE_ROLE when set).',
      ack: z.object({ room: z.string(), users: z.array(z.string()) }),
    },
  ),
};
