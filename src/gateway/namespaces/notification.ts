import { z } from 'zod';
import { ROOMS } from '../../catalog';
import { userOf } from '../../auth/user';
import { GatewayError } from '../../errors';
import { action } from '../action';
import { fixedRoomActions, joinRoomAction, leaveRoomAction, relays } from '../room-actions';

const presenceRoom = fixedRoomActions(ROOMS.presence);

/**
 * /notification: a user's own room (`user:{userId}`, joined automatically on connect) and the
 * presence room, where `user_status_changed` goes.
 */
export const notification = {
  name: '/notification',
  actions: {
    join_user: joinRoomAction(ROOMS.user, 'userId'),
    leave_user: leaveRoomAction(ROOMS.user, 'userId'),
    join_presence: presenceRoom.join,
    leave_presence: presenceRoom.leave,
    /** `get_online {}`: ids of online users on every gateway (up to 1000; `truncated` if more). */
    get_online: action(z.object({}), async (_input, ctx) => {
      if (userOf(ctx.socket).anonymous) throw new GatewayError('forbidden', 'sign in to see who is online');
      return ctx.access.presence.online();
    }),
  },
  relays: relays<{}>(),
} as const;
