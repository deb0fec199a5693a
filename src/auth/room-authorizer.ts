import type { Config } from '../config';
import type { RedisClient } from '../redis/connections';
import type { Keys } from '../redis/keys';
import { ROOM_KINDS, roomKindOf, type JoinRule } from '../catalog/rooms';
import { maySeePresence } from './presence-access';
import { isAdmin, type SocketUser } from './user';

/** Decides whether a user may join (or look at the presence of) a room. One call per join. */
export interface RoomAuthorizer {
  canJoin(user: SocketUser, room: string): Promise<boolean>;
}

/** Rooms anonymous sockets may use when AUTH_MODE=anonymous: those anyone may join. */
export function isPublicRoom(room: string): boolean {
  const found = roomKindOf(room);
  return found !== undefined && ROOM_KINDS[found.kind].join === 'anyone';
}

type Rule = (user: SocketUser, params: Record<string, string>) => boolean | Promise<boolean>;

/** One rule per JoinRule: a table missing one does not compile. */
export type JoinRules = Record<JoinRule, Rule>;

/**
 * The default rules, one per JoinRule of the room table (src/catalog/rooms.ts): a kind added
 * there with a new rule does not compile until the rule is written here. Anonymous sockets pass
 * only `anyone`; a room of no kind is nobody's.
 */
export class DefaultRoomAuthorizer implements RoomAuthorizer {
  private readonly rules: JoinRules;

  constructor(
    private readonly deps: {
      redis: RedisClient;
      keys: Pick<Keys, 'orderOwner' | 'chatMembers'>;
      config: Pick<Config, 'PRESENCE_ROLE'>;
    },
  ) {
    this.rules = {
      anyone: () => true,
      self: (user, { userId }) => userId === user.id,
      'owner-or-admin': async (user, { orderId }) =>
        isAdmin(user) ||
        (await this.deps.redis.get(this.deps.keys.orderOwner(orderId as string))) === user.id,
      'members-once-listed': (user, { chatId }) => this.isChatMember(chatId as string, user.id),
      'presence-viewers': (user) => maySeePresence(user, this.deps.config),
      admins: (user) => isAdmin(user),
    };
  }

  async canJoin(user: SocketUser, room: string): Promise<boolean> {
    const found = roomKindOf(room);
    if (!found) return false;
    const rule = ROOM_KINDS[found.kind].join;
    if (user.anonymous && rule !== 'anyone') return false;
    return this.rules[rule](user, found.params);
  }

  private async isChatMember(chatId: string, userId: string): Promise<boolean> {
    const key = this.deps.keys.chatMembers(chatId);
    // One round trip: an open chat has no member set (EXISTS 0).
    const [exists, member] =
      (await this.deps.redis.multi().exists(key).sismember(key, userId).exec()) ?? [];
    if (!exists || exists[0] || !member || member[0])
      throw exists?.[0] ?? member?.[0] ?? new Error('chat membership lookup failed');
    return exists[1] === 0 || member[1] === 1;
  }
}
