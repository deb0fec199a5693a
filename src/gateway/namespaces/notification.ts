import { z } from 'zod';
import { withExamples } from '../../catalog/fields';
import { maySeePresence, presenceRefusal } from '../../auth/presence-access';
import { userOf } from '../../auth/user';
import { GatewayError } from '../../errors';
import { action } from '../action';
import { roomActionsIn, relays } from '../room-actions';

/**
 * /notification: a user's own room (`user:{userId}`, joined automatically on connect) and the
 * presence room, where `user_status_changed` goes.
 */
export const notification = {
  name: '/notification',
  description:
    "A user's own room (`user:{userId}`: notifications), which every signed-in socket joins on connect, and the shared `presence` room (`user_status_changed`).",
  actions: {
    ...roomActionsIn('/notification'),
    /** `get_online {}`: ids of online users on every gateway (up to 1000; `truncated` if more). */
    get_online: action(
      withExamples(z.object({}), {}),
      async (_input, ctx) => {
        const user = userOf(ctx.socket);
        if (!maySeePresence(user, ctx.deps.config))
          throw new GatewayError('forbidden', presenceRefusal(user, ctx.deps.config));
        return ctx.access.presence.online();
      },
      {
        description:
          'Ids of the users online on any gateway (up to 1000; `truncated` if there are more). Signed-in sockets only (with PRESENCE_ROLE when set).',
        ack: z.object({ users: z.array(z.string()), truncated: z.boolean() }),
      },
    ),
  },
  relays: relays({}),
} as const;
