import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/connections';
import { logger } from '../logger';
import type { Keys } from '../redis/keys';
import { preloadPresenceScripts, presenceScripts } from './scripts';

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

/**
 * Who is online and who is in which room, across gateways, kept in Redis (never fetchSockets).
 * Each gateway holds a lease renewed every heartbeat; a gateway whose lease runs out is reaped by
 * any live gateway, so a SIGKILLed gateway's users go offline within TTL + one heartbeat, unless
 * they still have a socket elsewhere. Rooms live under their own hash tags (spread over a
 * cluster), so a reap is one script for the users and then one per room the dead gateway listed;
 * each is safe to run twice, and a reap left half done is finished by the next heartbeat anywhere.
 * A local mirror of this gateway's counts lets it re-register, under a new lease id, if it was
 * ever reaped while alive (e.g. a long pause).
 */
export class Presence {
  /** This process's id (readiness probe channel); the lease id changes if the lease was lost. */
  readonly gatewayId = randomUUID();
  private leaseId = this.gatewayId;
  private readonly scripts: ReturnType<typeof presenceScripts>;
  private readonly users = new Map<string, number>();
  /** `[ns, room]` as JSON -> user -> sockets of this gateway in that room. */
  private readonly rooms = new Map<string, Map<string, number>>();
  /** Rooms this gateway left entirely, by heartbeat generation, to drop from its room set. */
  private emptied = new Set<string>();
  private emptiedBefore = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  /** After the first beat: from then on a missing lease means this gateway was reaped. */
  private started = false;
  private closed = false;

  constructor(private readonly opts: PresenceOptions) {
    this.scripts = presenceScripts(opts.redis);
  }

  /** Takes the first lease (before any socket is accepted) and starts the heartbeat. */
  async start(): Promise<void> {
    await preloadPresenceScripts(this.opts.redis);
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
    const id = JSON.stringify([ns, room]);
    let here = this.rooms.get(id);
    const first = !here;
    if (!here) this.rooms.set(id, (here = new Map<string, number>()));
    here.set(userId, (here.get(userId) ?? 0) + 1);
    this.emptied.delete(id);
    this.emptiedBefore.delete(id);
    // Listed for a reaper in the same tick as the share is written (a reaper only looks once this
    // gateway's lease has run out, long after both have landed).
    if (first)
      this.track(this.opts.redis.sadd(this.opts.keys.presenceGatewayRooms(this.leaseId), id));
    this.track(this.changeRoom(ns, room, userId, 1, this.leaseId));
  }

  left(ns: string, room: string, userId: string): void {
    const id = JSON.stringify([ns, room]);
    const here = this.rooms.get(id);
    const count = here?.get(userId);
    if (!here || !count) return;
    if (count > 1) here.set(userId, count - 1);
    else here.delete(userId);
    if (here.size === 0) {
      this.rooms.delete(id);
      this.emptied.add(id);
    }
    this.track(this.changeRoom(ns, room, userId, -1, this.leaseId));
  }

  /** The user's sockets on every gateway (one per namespace a client is connected to). */
  async socketsOf(userId: string): Promise<number> {
    return Number((await this.opts.redis.hget(this.opts.keys.presenceOnline, userId)) ?? 0);
  }

  /** User ids with at least one socket in the room, on any gateway. */
  async inRoom(ns: string, room: string): Promise<string[]> {
    return (await this.opts.redis.hkeys(this.opts.keys.presenceRoom(ns, room))).sort();
  }

  /** Online user ids (at most `limit`, scanned so a large set never blocks Redis), and whether there were more. */
  async online(limit = 1000): Promise<{ users: string[]; truncated: boolean }> {
    const users: string[] = [];
    let cursor = '0';
    do {
      const [next, fields] = await this.opts.redis.hscan(
        this.opts.keys.presenceOnline,
        cursor,
        'COUNT',
        500,
      );
      cursor = next;
      for (let i = 0; i < fields.length; i += 2) users.push(fields[i] as string);
    } while (cursor !== '0' && users.length <= limit);
    return {
      users: users.slice(0, limit).sort(),
      truncated: users.length > limit || cursor !== '0',
    };
  }

  /** Stops the heartbeat, waits for pending updates, and removes this gateway's entries. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    await this.reap(this.leaseId, 'drop').catch((err: unknown) =>
      log.warn({ err: (err as Error).message }, 'presence drop failed'),
    );
  }

  private async changeUser(userId: string, delta: number): Promise<void> {
    const changed = await this.scripts.sbPresenceUser(
      this.opts.keys.presenceGateway(this.leaseId),
      this.opts.keys.presenceOnline,
      userId,
      delta,
    );
    if (changed === 1) this.opts.onTransition(userId, delta > 0 ? 'online' : 'offline');
  }

  private changeRoom(
    ns: string,
    room: string,
    userId: string,
    delta: number,
    lease: string,
  ): Promise<unknown> {
    const k = this.opts.keys;
    return this.scripts.sbPresenceRoom(
      k.presenceRoom(ns, room),
      k.presenceRoomGateway(ns, room, lease),
      userId,
      delta,
    );
  }

  private async beat(): Promise<void> {
    const k = this.opts.keys;
    const [existed, ...toReap] = (await this.scripts.sbPresenceBeat(
      k.presenceGateways,
      k.presenceReaping,
      this.leaseId,
      this.opts.ttlMs,
    )) as [number, ...string[]];
    for (const gateway of new Set(toReap)) await this.reap(gateway, 'expired');
    if (!existed && this.started && !this.closed) await this.reregister();
    this.started = true;
    await this.forgetEmptiedRooms();
  }

  /**
   * Undoes a gateway: its users (one script, which decides who reaps), then each room it listed.
   * `drop` is this gateway's own close; `expired` only acts if that gateway's lease ran out.
   */
  private async reap(gateway: string, mode: 'expired' | 'drop'): Promise<void> {
    const k = this.opts.keys;
    const [state, ...offline] = (await this.scripts.sbPresenceReapUsers(
      k.presenceGateways,
      k.presenceOnline,
      k.presenceGateway(gateway),
      k.presenceReaping,
      gateway,
      mode,
    )) as [number, ...string[]];
    for (const userId of offline) this.opts.onTransition(userId, 'offline');
    if (state === 0) return;
    const rooms = await this.opts.redis.smembers(k.presenceGatewayRooms(gateway));
    for (const id of rooms) {
      const [ns, room] = JSON.parse(id) as [string, string];
      await this.scripts.sbPresenceRoomReap(
        k.presenceRoom(ns, room),
        k.presenceRoomGateway(ns, room, gateway),
      );
    }
    await this.opts.redis
      .multi()
      .del(k.presenceGatewayRooms(gateway))
      .srem(k.presenceReaping, gateway)
      .exec();
  }

  /**
   * After being reaped while alive, puts this gateway's sockets back under a new lease id (their
   * users come online again). A new id keeps this apart from a reap of the old one still running.
   */
  private async reregister(): Promise<void> {
    log.warn(
      { gateway: this.gatewayId, users: this.users.size, rooms: this.rooms.size },
      'presence lease was lost; re-registering sockets',
    );
    this.leaseId = randomUUID();
    const k = this.opts.keys;
    await this.scripts.sbPresenceBeat(
      k.presenceGateways,
      k.presenceReaping,
      this.leaseId,
      this.opts.ttlMs,
    );
    for (const [userId, count] of this.users) await this.changeUser(userId, count);
    if (this.rooms.size > 0)
      await this.opts.redis.sadd(k.presenceGatewayRooms(this.leaseId), ...this.rooms.keys());
    for (const [id, here] of this.rooms) {
      const [ns, room] = JSON.parse(id) as [string, string];
      for (const [userId, count] of here)
        await this.changeRoom(ns, room, userId, count, this.leaseId);
    }
    this.emptied.clear();
    this.emptiedBefore.clear();
  }

  /**
   * Drops rooms this gateway left a heartbeat ago from its room set (not at once: a leave's room
   * script, on another node of a cluster, may still be on its way). Keeps the set from growing
   * with every room a long-lived gateway ever served.
   */
  private async forgetEmptiedRooms(): Promise<void> {
    const stale = [...this.emptiedBefore].filter((id) => !this.rooms.has(id));
    this.emptiedBefore = this.emptied;
    this.emptied = new Set();
    if (stale.length > 0)
      await this.opts.redis.srem(this.opts.keys.presenceGatewayRooms(this.leaseId), ...stale);
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((err: unknown) =>
      log.warn({ err: (err as Error).message }, 'presence update failed'),
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}
