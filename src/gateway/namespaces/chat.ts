import { z } from 'zod';
import { ROOMS, roomOf } from '../../catalog';
import { id, text } from '../../catalog/fields';
import { postChatMessage } from '../../domain/chats';
import { action } from '../action';
import { joinRoomAction, leaveRoomAction, relays, requireJoined, typingAction } from '../room-actions';

/** /chat: chat rooms (`chat:{chatId}`), messages and typing indicators. */
export const chat = {
  name: '/chat',
  actions: {
    join_chat: joinRoomAction(ROOMS.chat, 'chatId'),
    leave_chat: leaveRoomAction(ROOMS.chat, 'chatId'),
    /**
     * Stores the message and broadcasts it to the room as `new_message` (through the queue, like
     * every server event, so it carries a meta.id). The ack returns the stored message.
     */
    new_message: action(z.object({ chatId: id, content: text(4000) }), async (input, ctx) => {
      requireJoined(ctx, roomOf(ROOMS.chat, { chatId: input.chatId }));
      const userId = (ctx.socket.data as { user?: { id: string } }).user?.id ?? null;
      const { message, eventId } = await postChatMessage(ctx.deps, { ...input, userId });
      return { ...message, eventId };
    }),
    typing_start: typingAction(ROOMS.chat, 'chatId', true),
    typing_stop: typingAction(ROOMS.chat, 'chatId', false),
  },
  relays: relays<{ typing: (data: { chatId: string; userId?: string; typing: boolean }) => void }>(),
} as const;
