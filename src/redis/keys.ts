/**
 * Every Redis key and channel Switchboard uses, in one place, all under one prefix so tests can
 * isolate runs and deployments can share a Redis. docs/delivery.md (Redis keys) lists each key's role.
 */
import { createHash } from 'node:crypto';
import { isSafeSegment } from '../ids';

function segment(value: string): string {
  if (!isSafeSegment(value)) throw new Error(`unsafe key segment: ${JSON.stringify(value)}`);
  return value;
}

export interface Keys {
  readonly prefix: string;
  /**
   * BullMQ's own prefix: the queue's keys live at `<prefix>:bull:{<prefix>}:<queue>:*`. The hash
   * tag keeps each queue's keys in one Redis Cluster slot, as BullMQ's scripts need.
   */
  readonly bullPrefix: string;
  /** Socket.IO Redis adapter channel prefix (`<prefix>:io#/<ns>#<room>#`). */
  readonly adapterKey: string;
  /** The adapter's channel of one room, `<prefix>:io#/<ns>#<room>#` (ns with its slash). */
  roomChannel(ns: string, room: string): string;
  /**
   * Stream of a room's recent events (recovery on reconnect): `<prefix>:history:{<channel>}`, whose
   * hash tag is the room's adapter channel (`<prefix>:io#/<ns>#<room>#`). On Redis Cluster the
   * stream and the room's sharded pub/sub channel are then in one slot, so the emit script can append
   * and SPUBLISH in one call; the rooms spread over the nodes.
   */
  history(ns: string, room: string): string;
  /**
   * String: offsets of an emitted delivery batch (or window), written with the emit; guards re-runs
   * (expires). On Redis Cluster one per slot of the batch, tagged with a channel (`slotOf`) there.
   */
  emitMarker(batchId: string, slotOf?: string): string;
  /** Stream of emitted events that have server-side handlers, read by the workers' consumer group. */
  readonly handlerInbox: string;
  /** Stream the example `activity-log` handler appends to. */
  readonly activityLog: string;
  /** Hash handler name -> `{ events }`: what the most recently started worker loaded. */
  readonly handlerRegistry: string;
  /** Like counter of a post (example domain). */
  postLikes(postId: string): string;
  /** Capped list of a chat's recent messages (example domain). */
  chatMessages(chatId: string): string;
  /**
   * The throttle store is split into THROTTLE_SHARDS shards by room; each shard's keys share one
   * hash tag, so its scripts run on one Redis Cluster slot and the shards spread over the nodes.
   */
  throttleShardOf(throttleKey: string): number;
  /** Sorted set of a shard's open windows: member = throttle key, score = first-seen ms. */
  throttleIndex(shard: number): string;
  /** Sorted set of a shard's claimed windows being emitted: member = window id, score = claim ms. */
  throttleClaims(shard: number): string;
  /** Hash of one open window of a throttled key (payload or items, count, first/last time). */
  throttleEntry(throttleKey: string): string;
  /** `leading` mode only: exists (with a TTL of one window) while a key's window is open. */
  throttleLead(throttleKey: string): string;
  /** A claimed window, renamed from its entry (throttle-window), under its claim id. */
  throttleClaim(shard: number, windowId: string): string;
  /** Set of a chat's members; a chat with this set admits only its members (room authorization). */
  chatMembers(chatId: string): string;
  /** String: the user id owning an order (written by the API, read by room authorization). */
  orderOwner(orderId: string): string;
  /** String: ms since epoch before which the user's tokens are refused (POST /admin/users/:id/revoke). */
  tokensRevokedBefore(userId: string): string;
  /** Presence: zset of live gateways, scored by the time (ms) their lease runs out. */
  readonly presenceGateways: string;
  /** Presence: set of gateways whose lease ran out and whose rooms are still being undone. */
  readonly presenceReaping: string;
  /** Presence: hash user id -> sockets of that user on one gateway, for undoing it if it dies. */
  presenceGateway(gatewayId: string): string;
  /** Presence: set of `[ns, room]` (JSON) one gateway has sockets in, for undoing it if it dies. */
  presenceGatewayRooms(gatewayId: string): string;
  /** Presence: hash user id -> sockets open anywhere. A user is online while present here. */
  readonly presenceOnline: string;
  /** Presence: hash user id -> sockets of that user in one room of one namespace (the room's slot). */
  presenceRoom(ns: string, room: string): string;
  /** Presence: one gateway's share of presenceRoom (same slot), subtracted if that gateway dies. */
  presenceRoomGateway(ns: string, room: string, gatewayId: string): string;
  /** Token bucket (hash t/ts) of one rate-limited subject, e.g. kind `user` id `42`, or `http` and a token hash. */
  rateBucket(kind: string, id: string): string;
  /** Pub/sub channel a gateway's adapter subscriber listens on to prove it receives (/readyz). */
  readinessProbe(gatewayId: string): string;
  /** String `wait|<fingerprint>|<token>` or `done|<fingerprint>|<event id>` of an idempotency key (hashed). */
  idempotency(key: string): string;
  /** String, TTL: one signed-in dashboard session (`/admin/login`), keyed by a hash of its cookie value. */
  adminSession(sessionId: string): string;
}

/** Namespace without its slash, the event and the room: `social:post_liked:post:1`. */
export function throttleKeyOf(ns: string, event: string, room: string): string {
  const name = ns.startsWith('/') ? ns.slice(1) : ns;
  if (!/^[a-z][a-z0-9_]*$/.test(name) || !/^[a-z][a-z0-9_]*$/.test(event)) {
    throw new Error(`unsafe throttle key parts: ${JSON.stringify([ns, event])}`);
  }
  return `${name}:${event}:${segment(room)}`;
}

/** The inverse of throttleKeyOf; undefined for anything that is not a well-formed throttle key. */
export function parseThrottleKey(
  id: string,
): { ns: string; event: string; room: string } | undefined {
  const match = /^([a-z][a-z0-9_]*):([a-z][a-z0-9_]*):(.+)$/.exec(id);
  if (!match || !isSafeSegment(match[3] as string)) return undefined;
  return { ns: `/${match[1]}`, event: match[2] as string, room: match[3] as string };
}

/** The adapter channel of a room: the same shape for the pub/sub and the sharded Redis adapters. */
function roomChannel(prefix: string, ns: string, room: string): string {
  return `${prefix}:io#/${segment(ns.replace(/^\//, ''))}#${segment(room)}#`;
}

/**
 * `<prefix>:presence:{<prefix>:presence}`: who is online and which gateway holds what share one
 * hash tag (a lease and a gateway's users change in one script). Room presence is not under it: a
 * room's keys carry the room's own channel as tag, beside its history, so rooms spread over a
 * cluster's masters.
 */
function presence(prefix: string): string {
  return `${prefix}:presence:{${prefix}:presence}`;
}

/**
 * Shards of the throttle store. Fixed, not configured: a window's shard is where its keys live, so
 * changing the count would strand the open windows of the old layout.
 */
export const THROTTLE_SHARDS = 16;

/** FNV-1a of the room: every window of a room (any event) is in the same shard. */
function throttleShardOf(throttleKey: string): number {
  const room = parseThrottleKey(throttleKey)?.room ?? throttleKey;
  let hash = 0x811c9dc5;
  for (let i = 0; i < room.length; i++) hash = Math.imul(hash ^ room.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % THROTTLE_SHARDS;
}

/** `<prefix>:throttle:{<prefix>:<shard>}`: the hash tag puts a shard's keys in one cluster slot. */
function throttleShard(prefix: string, shard: number): string {
  if (!Number.isInteger(shard) || shard < 0 || shard >= THROTTLE_SHARDS)
    throw new Error(`no throttle shard ${shard}`);
  return `${prefix}:throttle:{${prefix}:${shard}}`;
}

export function createKeys(prefix: string): Keys {
  return {
    prefix,
    bullPrefix: `${prefix}:bull:{${prefix}}`,
    adapterKey: `${prefix}:io`,
    // On a cluster, one marker per slot of the batch: tagged with a channel of that slot.
    emitMarker: (batchId, slotOf) =>
      `${prefix}:emitted:${slotOf === undefined ? '' : `{${slotOf}}:`}${segment(batchId)}`,
    handlerInbox: `${prefix}:handlers:inbox`,
    activityLog: `${prefix}:activity`,
    handlerRegistry: `${prefix}:handlers:registry`,
    roomChannel: (ns, room) => roomChannel(prefix, ns, room),
    history: (ns, room) => `${prefix}:history:{${roomChannel(prefix, ns, room)}}`,
    postLikes: (postId) => `${prefix}:post:${segment(postId)}:likes`,
    chatMessages: (chatId) => `${prefix}:chat:${segment(chatId)}:messages`,
    throttleShardOf: (throttleKey) => throttleShardOf(throttleKey),
    throttleIndex: (shard) => `${throttleShard(prefix, shard)}:index`,
    throttleClaims: (shard) => `${throttleShard(prefix, shard)}:claims`,
    throttleEntry: (throttleKey) =>
      `${throttleShard(prefix, throttleShardOf(throttleKey))}:entry:${throttleKey}`,
    throttleLead: (throttleKey) =>
      `${throttleShard(prefix, throttleShardOf(throttleKey))}:lead:${throttleKey}`,
    throttleClaim: (shard, windowId) =>
      `${throttleShard(prefix, shard)}:claim:${segment(windowId)}`,
    chatMembers: (chatId) => `${prefix}:chat:${segment(chatId)}:members`,
    orderOwner: (orderId) => `${prefix}:order:${segment(orderId)}:owner`,
    tokensRevokedBefore: (userId) => `${prefix}:user:${segment(userId)}:revoked-before`,
    presenceGateways: `${presence(prefix)}:gateways`,
    presenceReaping: `${presence(prefix)}:reaping`,
    presenceGateway: (gatewayId) => `${presence(prefix)}:gw:${segment(gatewayId)}`,
    presenceGatewayRooms: (gatewayId) => `${presence(prefix)}:gw:${segment(gatewayId)}:rooms`,
    presenceOnline: `${presence(prefix)}:online`,
    presenceRoom: (ns, room) => `${prefix}:presence:room:{${roomChannel(prefix, ns, room)}}`,
    presenceRoomGateway: (ns, room, gatewayId) =>
      `${prefix}:presence:room:{${roomChannel(prefix, ns, room)}}:gw:${segment(gatewayId)}`,
    rateBucket: (kind, id) => `${prefix}:rate:${segment(kind)}:${segment(id)}`,
    readinessProbe: (gatewayId) => `${prefix}:probe#${segment(gatewayId)}`,
    // Hashed: the caller's key may hold any printable character.
    idempotency: (key) => `${prefix}:idem:${createHash('sha256').update(key).digest('base64url')}`,
    // Hashed: reading Redis never yields a usable session cookie.
    adminSession: (sessionId) =>
      `${prefix}:admin:session:${createHash('sha256').update(sessionId).digest('base64url')}`,
  };
}
