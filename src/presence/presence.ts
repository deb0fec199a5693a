import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connections';
import { logger } from '../logger';
import type { Keys } from '../redis/keys';
import { PRESENCE_LEASE_LUA, PRESENCE_ROOM_LUA, PRESENCE_USER_LUA } from './scripts';

const log = logger('presence');

export type PresenceStatus = 'online' | 'offline';

export interface PresenceOptions {
  redis: RedisClient;
  keys: Keys;
  heartbeatMs: number;
  ttlMs: number;
  /** Called once per real transition of a user, whichever gateway observed it. */
  onTransition: (userId: string, status: PresenceStatus) => void;
}

type PresenceRedis = RedisClient & {
  sbPresenceUser(gw: string, online: string, userId: string, delta: number): Promise<number>;
  sbPresenceRoom(gw: string, room: string, field: string, userId: string, delta: number): Promise<number>;
  sbPresenceLease(gateways: string, online: string, prefix: string, mode: 'beat' | 'drop', me: string, ttlMs: number): Promise<Array<number | string>>;
};

/**
 * Who is online and who is in which room, across gateways, kept in Redis (never fetchSockets).
 * Each gateway holds a lease renewed every heartbeat; a gateway whose lease runs out is reaped by
 * any live gateway, so a SIGKILLed gateway's users go offline within TTL + one heartbeat, unless
 * they still have a socket elsewhere. A local mirror of this gateway's counts lets it re-register
 * if it was ever reaped while alive (e.g. a long pause).
 */
export class Presence {
  readonly gatewayId = randomUUID();
  private readonly redis: PresenceRedis;
  private readonly gwKey: string;
  private readonly users = new Map<string, number>();
  private readonly rooms = new Map<string, { key: string; userId: string; count: number }>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: PresenceOptions) {
    const r = opts.redis as PresenceRedis;
    r.defineCommand('sbPresenceUser', { numberOfKeys: 2, lua: PRESENCE_USER_LUA });
    r.defineCommand('sbPresenceRoom', { numberOfKeys: 2, lua: PRESENCE_ROOM_LUA });
    r.defineCommand('sbPresenceLease', { numberOfKeys: 2, lua: PRESENCE_LEASE_LUA });
    this.redis = r;
    this.gwKey = opts.keys.presenceGateway(this.gatewayId);
  }

  /** Takes the first lease (before any socket is accepted) and starts the heartbeat. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => this.track(this.beat()), this.opts.heartbeatMs);
    this.timer.unref();
  }

  connected(userId: string): void {
    this.users.set(userId, (this.users.get(userId) ?? 0) + 1);
    this.track(this.changeUser(userId, 1));
  }

  disconnected(userId: string): void {
    const left = (this.users.get(userId) ?? 0) - 1;
    if (left > 0) this.users.set(userId, left);
    else this.users.delete(userId);
    this.track(this.changeUser(userId, -1));
  }

  /** `ns` without its slash (`social`); `room` as the adapter names it. */
  joined(ns: string, room: string, userId: string): void {
    const field = `r|${ns}|${room}|${userId}`;
    const entry = this.rooms.get(field) ?? { key: this.opts.keys.presenceRoom(ns, room), userId, count: 0 };
    entry.count += 1;
    this.rooms.set(field, entry);
    this.track(this.redis.sbPresenceRoom(this.gwKey, entry.key, field, userId, 1));
  }

  left(ns: string, room: string, userId: string): void {
    const field = `r|${ns}|${room}|${userId}`;
    const entry = this.rooms.get(field);
    if (!entry) return;
    entry.count -= 1;
    if (entry.count <= 0) this.rooms.delete(field);
    this.track(this.redis.sbPresenceRoom(this.gwKey, entry.key, field, userId, -1));
  }

  /** User ids with at least one socket in the room, on any gateway. */
  async inRoom(ns: string, room: string): Promise<string[]> {
    return (await this.redis.hkeys(this.opts.keys.presenceRoom(ns, room))).sort();
  }

  /** Online user ids (at most `limit`, scanned so a large set never blocks Redis), and whether there were more. */
  async online(limit = 1000): Promise<{ users: string[]; truncated: boolean }> {
    const users: string[] = [];
    let cursor = '0';
    do {
      const [next, fields] = await this.redis.hscan(this.opts.keys.presenceOnline, cursor, 'COUNT', 500);
      cursor = next;
      for (let i = 0; i < fields.length; i += 2) users.push(fields[i] as string);
    } while (cursor !== '0' && users.length <= limit);
    return { users: users.slice(0, limit).sort(), truncated: users.length > limit || cursor !== '0' };
  }

  /** Stops the heartbeat, waits for pending updates, and removes this gateway's entries. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    await this.lease('drop').catch((err: unknown) => log.warn({ err: (err as Error).message }, 'presence drop failed'));
  }

  private async changeUser(userId: string, delta: number): Promise<void> {
    const changed = await this.redis.sbPresenceUser(this.gwKey, this.opts.keys.presenceOnline, userId, delta);
    if (changed === 1) this.opts.onTransition(userId, delta > 0 ? 'online' : 'offline');
  }

  private async beat(): Promise<void> {
    const existed = await this.lease('beat');
    if (!existed && !this.closed) await this.reregister();
  }

  /** Renews (or drops) the lease; reports users whose last socket was on a reaped gateway. */
  private async lease(mode: 'beat' | 'drop'): Promise<boolean> {
    const k = this.opts.keys;
    const [existed, ...offline] = await this.redis.sbPresenceLease(k.presenceGateways, k.presenceOnline, k.presencePrefix, mode, this.gatewayId, this.opts.ttlMs);
    for (const userId of offline) this.opts.onTransition(String(userId), 'offline');
    return existed === 1;
  }

  /** After being reaped while alive, puts this gateway's sockets back (their users come online again). */
  private async reregister(): Promise<void> {
    if (this.users.size === 0 && this.rooms.size === 0) return;
    log.warn({ gateway: this.gatewayId, users: this.users.size }, 'presence lease was lost; re-registering sockets');
    for (const [userId, count] of this.users) await this.changeUser(userId, count);
    for (const [field, e] of this.rooms) await this.redis.sbPresenceRoom(this.gwKey, e.key, field, e.userId, e.count);
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((err: unknown) => log.warn({ err: (err as Error).message }, 'presence update failed'));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}
