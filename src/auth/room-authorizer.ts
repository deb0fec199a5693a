import type { Config } from '../config';
import type { RedisClient } from '../redis/connections';
import type { Keys } from '../redis/keys';
import { matchRoom, ROOMS } from '../catalog/rooms';
import { maySeePresence } from './presence-access';
import { isAdmin, type SocketUser } from './user';

/** Decides whether a user may join (or look at the presence of) a room. One call per join. */
export interface RoomAuthorizer {
  canJoin(user: SocketUser, room: string): Promise<boolean>;
}

/** Rooms anonymous sockets may use when AUTH_MODE=anonymous. */
export function isPublicRoom(room: string): boolean {
  return matchRoom(ROOMS.post, room) !== undefined;
}

/**
 * The default rules, by the catalog's room templates:
 * - `user:{userId}`: only that user;
 * - `order:{orderId}`: the owner recorded by the API, or an admin;
 * - `admin`: role admin;
 * - `post:{postId}`: anyone, anonymous sockets too (public rooms);
 * - `presence`: who may see presence (signed in, and PRESENCE_ROLE when set);
 * - `chat:{chatId}`: any authenticated user, or only its members once the chat has a member list;
 * - anything else: nobody.
 */
export class DefaultRoomAuthorizer implements RoomAuthorizer {
  constructor(private readonly deps: { redis: RedisClient; keys: Pick<Keys, 'orderOwner' | 'chatMembers'>; config: Pick<Config, 'PRESENCE_ROLE'> }) {}

  async canJoin(user: SocketUser, room: string): Promise<boolean> {
    if (isPublicRoom(room)) return true;
    if (user.anonymous) return false;
    const own = matchRoom(ROOMS.user, room);
    if (own) return own.userId === user.id;
    const order = matchRoom(ROOMS.order, room);
    if (order) return isAdmin(user) || (await this.deps.redis.get(this.deps.keys.orderOwner(order.orderId as string))) === user.id;
    if (matchRoom(ROOMS.admin, room)) return isAdmin(user);
    if (matchRoom(ROOMS.presence, room)) return maySeePresence(user, this.deps.config);
    const chat = matchRoom(ROOMS.chat, room);
    if (chat) return this.isChatMember(chat.chatId as string, user.id);
    return false;
  }

  private async isChatMember(chatId: string, userId: string): Promise<boolean> {
    const key = this.deps.keys.chatMembers(chatId);
    // One round trip: an open chat has no member set (EXISTS 0).
    const [exists, member] = (await this.deps.redis.multi().exists(key).sismember(key, userId).exec()) ?? [];
    if (!exists || exists[0] || !member || member[0]) throw exists?.[0] ?? member?.[0] ?? new Error('chat membership lookup failed');
    return exists[1] === 0 || member[1] === 1;
  }
}
