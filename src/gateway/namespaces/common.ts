import { z } from 'zod';
import { withExamples } from '../../catalog/fields';
import { maySeePresence, presenceRefusal } from '../../auth/presence-access';
import { setUserOf, userOf } from '../../auth/user';
import { GatewayError } from '../../errors';
import { isSafeSegment } from '../../ids';
import { action } from '../action';
import { verifyUnrevoked } from '../connection-auth';
import { presenceNs } from '../presence-hooks';
import { requireAllowed } from '../room-actions';

/** A room name as clients see them: `post:1`, `presence`, `admin`. */
const roomName = z
  .string()
  .refine(isSafeSegment, 'must be a room name such as post:1')
  .meta({ description: 'a room name such as post:1' });

/** Actions every namespace answers. */
export const commonActions = {
  /**
   * `refresh_token { token }`: a fresh token for the same user moves the socket's deadline to its
   * `exp` (+ TOKEN_EXPIRY_GRACE_MS); acks `{ expiresAt }` (ms). A bad, expired or other user's token
   * is `unauthorized` and changes nothing. The roles are the new token's.
   */
  refresh_token: action(
    withExamples(z.object({ token: z.string().min(1).max(8192) }), { token: 'eyJhbGciOi...' }),
    async ({ token }, ctx) => {
      const current = userOf(ctx.socket);
      if (current.anonymous)
        throw new GatewayError('unauthorized', 'an anonymous socket has no token to refresh');
      const { user, expiresAt } = await verifyUnrevoked(
        ctx.access.verifier,
        ctx.access.revocations,
        token,
      );
      if (user.id !== current.id)
        throw new GatewayError('unauthorized', 'the new token is for another user');
      setUserOf(ctx.socket, user);
      ctx.socket.data.tokenExpiresAt = expiresAt;
      ctx.access.expiry.watch(ctx.socket, expiresAt);
      return { expiresAt };
    },
    {
      description:
        "Replaces the socket's token with a fresh one for the same user before it expires; past `exp` + TOKEN_EXPIRY_GRACE_MS without one the socket is sent `disconnect_reason { reason: 'token_expired' }` and disconnected.",
      ack: z.object({ expiresAt: z.number().int() }),
    },
  ),
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
