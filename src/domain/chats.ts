import { randomUUID } from 'node:crypto';
import { ROOMS, roomOf } from '../catalog';
import type { Runtime } from '../runtime';

/** How many recent messages a chat keeps in Redis (example domain storage). */
export const CHAT_HISTORY_LENGTH = 200;

export interface ChatMessage {
  chatId: string;
  messageId: string;
  userId: string | null;
  content: string;
  sentAt: number;
}

/**
 * Stores a chat message and publishes `new_message` to `chat:{chatId}`. Called by the socket
 * action `new_message` and by `POST /api/chats/:id/messages` alike.
 */
export async function postChatMessage(
  rt: Pick<Runtime, 'redis' | 'keys' | 'events'>,
  input: { chatId: string; userId: string | null; content: string },
): Promise<{ message: ChatMessage; eventId: string }> {
  const message: ChatMessage = {
    chatId: input.chatId,
    messageId: randomUUID(),
    userId: input.userId,
    content: input.content,
    sentAt: Date.now(),
  };
  const key = rt.keys.chatMessages(input.chatId);
  await rt.redis
    .multi()
    .lpush(key, JSON.stringify(message))
    .ltrim(key, 0, CHAT_HISTORY_LENGTH - 1)
    .exec();
  const { id } = await rt.events.emitToChat('new_message', input.chatId, message);
  return { message, eventId: id };
}

/**
 * Who is in a room on every gateway, as far as a member-list change needs: the gateway implements
 * it over the Socket.IO adapter (fetchSockets and leave reach every gateway).
 */
export interface RoomMembership {
  /** Removes from `room` of `ns`, on every gateway, each socket whose user `keep` refuses; answers how many. */
  removeAllBut(
    ns: string,
    room: string,
    keep: (userId: string | undefined) => boolean,
  ): Promise<number>;
}

/**
 * Replaces a chat's member list. From then on only members may join `chat:{chatId}` (and post
 * there); sockets of other users that joined while the chat was open are removed from the room on
 * every gateway, so they stop receiving its messages at once. An empty list opens the chat to every
 * authenticated user again. Without `membership` (no gateway in this process) only the list is written.
 */
export async function setChatMembers(
  rt: Pick<Runtime, 'redis' | 'keys'>,
  chatId: string,
  userIds: readonly string[],
  membership?: RoomMembership,
): Promise<{ members: number; removed: number }> {
  const key = rt.keys.chatMembers(chatId);
  const tx = rt.redis.multi().del(key);
  if (userIds.length > 0) tx.sadd(key, ...userIds);
  await tx.exec();
  const members = new Set(userIds);
  const removed =
    membership && members.size > 0
      ? await membership.removeAllBut(
          '/chat',
          roomOf(ROOMS.chat, { chatId }),
          (userId) => userId !== undefined && members.has(userId),
        )
      : 0;
  return { members: members.size, removed };
}
