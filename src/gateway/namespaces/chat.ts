import { z } from 'zod';
import { catalog, ROOMS, roomOf } from '../../catalog';
import { id, text, withExamples } from '../../catalog/fields';
import { postChatMessage } from '../../domain/chats';
import { userOf } from '../../auth/user';
import { GatewayError } from '../../errors';
import { action } from '../action';
import { roomActionsIn, relays, requireJoined, typingActions, typingRelay } from '../room-actions';

/** /chat: chat rooms (`chat:{chatId}`), messages and typing indicators. */
export const chat = {
  name: '/chat',
  description:
    'Chat rooms (`chat:{chatId}`): messages, read markers and typing indicators. A chat with a member list (PUT /api/chats/{id}/members) admits only its members.',
  actions: {
    ...roomActionsIn('/chat'),
    /**
     * Stores the message and broadcasts it to the room as `new_message` (through the queue, like
     * every server event, so it carries a meta.id). The ack returns the stored message.
     */
    new_message: action(
      withExamples(z.object({ chatId: id, content: text(4000) }), {
        chatId: '123',
        content: 'Hello!',
      }),
      async (input, ctx) => {
        const room = roomOf(ROOMS.chat, { chatId: input.chatId });
        requireJoined(ctx, room);
        const user = userOf(ctx.socket);
        // Asked on every message, not only at the join: the member list may have changed since.
        if (!(await ctx.access.rooms.canJoin(user, room)))
          throw new GatewayError('forbidden', `not a member of ${room}`);
        const userId = user.anonymous ? null : user.id;
        const { message, eventId } = await postChatMessage(ctx.deps, { ...input, userId });
        return { ...message, eventId };
      },
      {
        description:
          'Stores a message in a joined chat and sends it to the room as the `new_message` event (the sender gets it too); the ack holds the stored message and its event id.',
        ack: catalog.new_message.schema.extend({ eventId: z.string() }),
        room: ROOMS.chat,
      },
    ),
    ...typingActions(ROOMS.chat),
  },
  relays: relays({ typing: typingRelay(ROOMS.chat) }),
} as const;
