import type { RedisClient } from '../redis/connections';
import type { Keys } from '../redis/keys';
import { isAdmin, type SocketUser } from './user';

/** Decides whether a user may join (or look at the presence of) a room. One call per join. */
export interface RoomAuthorizer {
  canJoin(user: SocketUser, room: string): Promise<boolean>;
}

/** Rooms anonymous sockets may use when AUTH_MODE=anonymous. */
export function isPublicRoom(room: string): boolean {
  return room.startsWith('post:');
}

/**
 * The default rules:
 * - `user:{id}`: only that user;
 * - `order:{id}`: the owner recorded by the API, or an admin;
 * - `admin`: role admin;
 * - `post:{id}`, `presence`: any authenticated user (posts also anonymous ones: public rooms);
 * - `chat:{id}`: any authenticated user, or only its members once the chat has a member list;
 * - anything else: nobody.
 */
export class DefaultRoomAuthorizer implements RoomAuthorizer {
  constructor(private readonly deps: { redis: RedisClient; keys: Pick<Keys, 'orderOwner' | 'chatMembers'> }) {}

  async canJoin(user: SocketUser, room: string): Promise<boolean> {
    if (isPublicRoom(room)) return true;
    if (user.anonymous) return false;
    const [kind, ...rest] = room.split(':');
    const id = rest.join(':');
    switch (kind) {
      case 'user':
        return id === user.id;
      case 'order':
        return isAdmin(user) || (id !== '' && (await this.deps.redis.get(this.deps.keys.orderOwner(id))) === user.id);
      case 'admin':
        return rest.length === 0 && isAdmin(user);
      case 'presence':
        return rest.length === 0;
      case 'chat':
        return id !== '' && (await this.isChatMember(id, user.id));
      default:
        return false;
    }
  }

  private async isChatMember(chatId: string, userId: string): Promise<boolean> {
    const key = this.deps.keys.chatMembers(chatId);
    // One round trip: an open chat has no member set (EXISTS 0).
    const [exists, member] = (await this.deps.redis.multi().exists(key).sismember(key, userId).exec()) ?? [];
    if (!exists || exists[0] || !member || member[0]) throw exists?.[0] ?? member?.[0] ?? new Error('chat membership lookup failed');
    return exists[1] === 0 || member[1] === 1;
  }
}
