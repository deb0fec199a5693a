/**
 * Every Redis key and channel Switchboard uses, in one place, all under one prefix so tests can
 * isolate runs and deployments can share a Redis. The README lists each key's role.
 */
import { createHash } from 'node:crypto';

const SEGMENT_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** Ids that become part of a key or room name: short, printable, no spaces, braces or '#'. */
export function isSafeSegment(value: string): boolean {
  return SEGMENT_RE.test(value);
}

function segment(value: string): string {
  if (!isSafeSegment(value)) throw new Error(`unsafe key segment: ${JSON.stringify(value)}`);
  return value;
}

export interface Keys {
  readonly prefix: string;
  /** BullMQ's own prefix: the queue's keys live at `<prefix>:bull:<queue>:*`. */
  readonly bullPrefix: string;
  /** Socket.IO Redis adapter channel prefix (`<prefix>:io#/<ns>#<room>#`). */
  readonly adapterKey: string;
  /** Stream of a room's recent events (recovery on reconnect): `<prefix>:history:<ns>:<room>`. */
  history(ns: string, room: string): string;
  /** String: offsets of an emitted delivery batch (or window), written with the emit; guards re-runs (expires). */
  emitMarker(batchId: string): string;
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
  /** Sorted set of open pending entries: member = pending id, score = first-seen ms. */
  readonly pendingIndex: string;
  /** Sorted set of claimed windows being emitted: member = window id, score = claim ms. */
  readonly pendingClaims: string;
  /** Hash of one open window of a throttled key (payload or items, count, first/last time). */
  pendingEntry(pendingId: string): string;
  /** `leading` mode only: exists (with a TTL of one window) while a key's window is open. */
  pendingLead(pendingId: string): string;
  /** A claimed window, renamed from its entry; the Lua scripts build it from this prefix + window id. */
  readonly pendingClaimPrefix: string;
  pendingClaim(windowId: string): string;
  /** Set of a chat's members; a chat with this set admits only its members (room authorization). */
  chatMembers(chatId: string): string;
  /** String: the user id owning an order (written by the API, read by room authorization). */
  orderOwner(orderId: string): string;
  /** Presence: zset of live gateways, scored by the time (ms) their lease runs out. */
  readonly presenceGateways: string;
  /** Presence: hash of one gateway's counts (`u|<user>` and `r|<ns>|<room>|<user>`), for reaping it. */
  presenceGateway(gatewayId: string): string;
  /** Presence: hash user id -> sockets open anywhere. A user is online while present here. */
  readonly presenceOnline: string;
  /** Presence: hash user id -> sockets of that user in one room of one namespace. */
  presenceRoom(ns: string, room: string): string;
  /** Prefix the presence scripts build gateway and room keys from (same shapes as above). */
  readonly presencePrefix: string;
  /** Token bucket (hash t/ts) of one rate-limited subject, e.g. kind `user` id `42`, or `http` and a token hash. */
  rateBucket(kind: string, id: string): string;
  /** String `wait|<fingerprint>|<token>` or `done|<fingerprint>|<event id>` of an idempotency key (hashed). */
  idempotency(key: string): string;
}

/** Namespace without its slash, the event and the room: `social:post_liked:post:1`. */
export function pendingIdOf(ns: string, event: string, room: string): string {
  const name = ns.startsWith('/') ? ns.slice(1) : ns;
  if (!/^[a-z][a-z0-9_]*$/.test(name) || !/^[a-z][a-z0-9_]*$/.test(event)) {
    throw new Error(`unsafe pending id parts: ${JSON.stringify([ns, event])}`);
  }
  return `${name}:${event}:${segment(room)}`;
}

/** The inverse of pendingIdOf; undefined for anything that is not a well-formed pending id. */
export function parsePendingId(id: string): { ns: string; event: string; room: string } | undefined {
  const match = /^([a-z][a-z0-9_]*):([a-z][a-z0-9_]*):(.+)$/.exec(id);
  if (!match || !isSafeSegment(match[3] as string)) return undefined;
  return { ns: `/${match[1]}`, event: match[2] as string, room: match[3] as string };
}

export function createKeys(prefix: string): Keys {
  return {
    prefix,
    bullPrefix: `${prefix}:bull`,
    adapterKey: `${prefix}:io`,
    emitMarker: (batchId) => `${prefix}:emitted:${segment(batchId)}`,
    handlerInbox: `${prefix}:handlers:inbox`,
    activityLog: `${prefix}:activity`,
    handlerRegistry: `${prefix}:handlers:registry`,
    history: (ns, room) => `${prefix}:history:${segment(ns.replace(/^\//, ''))}:${segment(room)}`,
    postLikes: (postId) => `${prefix}:post:${segment(postId)}:likes`,
    chatMessages: (chatId) => `${prefix}:chat:${segment(chatId)}:messages`,
    pendingIndex: `${prefix}:pending:index`,
    pendingClaims: `${prefix}:pending:claims`,
    pendingEntry: (pendingId) => `${prefix}:pending:entry:${pendingId}`,
    pendingLead: (pendingId) => `${prefix}:pending:lead:${pendingId}`,
    pendingClaimPrefix: `${prefix}:pending:claim:`,
    pendingClaim: (windowId) => `${prefix}:pending:claim:${segment(windowId)}`,
    chatMembers: (chatId) => `${prefix}:chat:${segment(chatId)}:members`,
    orderOwner: (orderId) => `${prefix}:order:${segment(orderId)}:owner`,
    presenceGateways: `${prefix}:presence:gateways`,
    presenceGateway: (gatewayId) => `${prefix}:presence:gw:${segment(gatewayId)}`,
    presenceOnline: `${prefix}:presence:online`,
    presenceRoom: (ns, room) => `${prefix}:presence:room:${segment(ns)}:${segment(room)}`,
    presencePrefix: `${prefix}:presence`,
    rateBucket: (kind, id) => `${prefix}:rate:${segment(kind)}:${segment(id)}`,
    // Hashed: the caller's key may hold any printable character.
    idempotency: (key) => `${prefix}:idem:${createHash('sha256').update(key).digest('base64url')}`,
  };
}
