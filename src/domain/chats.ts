import { randomUUID } from 'node:crypto';
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
 * Replaces a chat's member list. From then on only members may join `chat:{chatId}`; an empty
 * list opens the chat to every authenticated user again.
 */
export async function setChatMembers(rt: Pick<Runtime, 'redis' | 'keys'>, chatId: string, userIds: readonly string[]): Promise<{ members: number }> {
  const key = rt.keys.chatMembers(chatId);
  const tx = rt.redis.multi().del(key);
  if (userIds.length > 0) tx.sadd(key, ...userIds);
  await tx.exec();
  return { members: new Set(userIds).size };
}
