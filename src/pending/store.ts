import type { Redis } from 'ioredis';
import type { Namespace, ThrottleDelivery } from '../catalog';
import type { Envelope } from '../events/envelope';
import { newEventId } from '../ids';
import { pendingIdOf, type Keys } from '../redis/keys';
import { pendingScripts, type ScriptCall, type ScriptName } from './scripts';

export type ThrottleMode = ThrottleDelivery['mode'];

/** What the add script tells the caller to do next (see lua/pending-add-4.lua). */
export type AddOutcome =
  | { kind: 'added'; windowId: string }
  | { kind: 'opened'; windowId: string; flushInMs: number }
  | { kind: 'emit-now' }
  | { kind: 'sealed'; windowId: string };

/** One window of a throttled key, open (an entry) or claimed for emitting (a claim). */
export interface PendingWindow {
  pendingId: string;
  /** The window's id: the coalesced emit's `meta.id`. */
  id: string;
  ns: Namespace;
  event: string;
  room: string;
  mode: ThrottleMode;
  windowMs: number;
  first: number;
  last: number;
  count: number;
  claimedAt?: number;
  /** `latest`/`leading`: the newest payload. */
  data?: unknown;
  /** `batch`: the payloads in arrival order. */
  items?: unknown[];
}

const SUMMARY_FIELDS = ['id', 'ns', 'event', 'room', 'mode', 'windowMs', 'first', 'last', 'count'] as const;

/**
 * The pending-event store in Redis: open windows of throttled keys, an index of them by first-seen
 * time (so counting and listing never SCAN the keyspace), and claims being emitted.
 */
export class PendingStore {
  private readonly scripts: Record<ScriptName, ScriptCall>;

  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
  ) {
    this.scripts = pendingScripts(redis);
  }

  pendingIdOf(envelope: Pick<Envelope, 'ns' | 'event' | 'room'>): string {
    return pendingIdOf(envelope.ns, envelope.event, envelope.room);
  }

  /** Adds an accepted event to its key's window: one EVALSHA. */
  async add(envelope: Envelope, delivery: ThrottleDelivery): Promise<AddOutcome> {
    const pendingId = pendingIdOf(envelope.ns, envelope.event, envelope.room);
    const reply = (await this.scripts.sbPendingAdd(
      this.keys.pendingEntry(pendingId),
      this.keys.pendingIndex,
      this.keys.pendingLead(pendingId),
      this.keys.pendingClaims,
      delivery.mode,
      JSON.stringify(envelope.data),
      delivery.windowMs,
      delivery.mode === 'batch' ? delivery.maxItems : 0,
      newEventId(),
      envelope.ns,
      envelope.event,
      envelope.room,
      pendingId,
      this.keys.pendingClaimPrefix,
    )) as [number, string, number];
    const [status, windowId, delay] = reply;
    switch (status) {
      case 0:
        return { kind: 'added', windowId };
      case 1:
        return { kind: 'opened', windowId, flushInMs: delay };
      case 2:
        return { kind: 'emit-now' };
      default:
        return { kind: 'sealed', windowId };
    }
  }

  /**
   * Claims a window (`windowId`), or whichever is open for the key (no `windowId`). Returns the
   * claim, also when it was claimed before (a retry), or undefined when nothing is left to emit.
   */
  async claim(pendingId: string, windowId = ''): Promise<PendingWindow | undefined> {
    const flat = (await this.scripts.sbPendingClaim(
      this.keys.pendingEntry(pendingId),
      this.keys.pendingIndex,
      this.keys.pendingClaims,
      windowId,
      pendingId,
      this.keys.pendingClaimPrefix,
    )) as string[];
    return fromFlatHash(pendingId, flat);
  }

  /** A claim left behind (the sweep re-emits these). */
  async readClaim(windowId: string): Promise<PendingWindow | undefined> {
    const hash = await this.redis.hgetall(this.keys.pendingClaim(windowId));
    return fromHash(undefined, hash);
  }

  /** The claim was emitted: forget it. */
  async release(windowId: string): Promise<void> {
    await this.redis.multi().del(this.keys.pendingClaim(windowId)).zrem(this.keys.pendingClaims, windowId).exec();
  }

  /** Removes an open window without emitting; returns what it held. */
  async drop(pendingId: string): Promise<PendingWindow | undefined> {
    const flat = (await this.scripts.sbPendingDrop(this.keys.pendingEntry(pendingId), this.keys.pendingIndex, pendingId)) as string[];
    return fromFlatHash(pendingId, flat);
  }

  /** Open windows in first-seen order, `offset` to `offset + count - 1` of the index. */
  async indexRange(offset: number, count: number): Promise<string[]> {
    return this.redis.zrange(this.keys.pendingIndex, String(offset), String(offset + count - 1));
  }

  async indexSize(): Promise<number> {
    return this.redis.zcard(this.keys.pendingIndex);
  }

  /** Open windows first seen at or before `ms` (oldest first). */
  async openedBefore(ms: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.pendingIndex, '-inf', String(ms), 'LIMIT', 0, limit);
  }

  /** Window ids claimed at or before `ms` and not released (oldest first). */
  async claimedBefore(ms: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.pendingClaims, '-inf', String(ms), 'LIMIT', 0, limit);
  }

  /** Summaries (no payloads) of open windows, one pipelined round trip; missing ones are skipped. */
  async summaries(pendingIds: readonly string[]): Promise<PendingWindow[]> {
    if (pendingIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of pendingIds) pipeline.hmget(this.keys.pendingEntry(id), ...SUMMARY_FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    const out: PendingWindow[] = [];
    replies.forEach(([err, values], i) => {
      if (err) throw err;
      const hash: Record<string, string> = {};
      SUMMARY_FIELDS.forEach((field, j) => {
        const value = (values as (string | null)[])[j];
        if (value !== null && value !== undefined) hash[field] = value;
      });
      const window = fromHash(pendingIds[i], hash);
      if (window) out.push(window);
    });
    return out;
  }

  /** Redis's clock in ms: the scripts stamp times with it, so ages compare like with like. */
  async now(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }
}

function fromFlatHash(pendingId: string | undefined, flat: string[]): PendingWindow | undefined {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
  return fromHash(pendingId, hash);
}

function fromHash(pendingId: string | undefined, hash: Record<string, string>): PendingWindow | undefined {
  if (!hash.id || !hash.ns || !hash.event || !hash.room) return undefined;
  const window: PendingWindow = {
    pendingId: pendingId ?? pendingIdOf(hash.ns, hash.event, hash.room),
    id: hash.id,
    ns: hash.ns as Namespace,
    event: hash.event,
    room: hash.room,
    mode: hash.mode as ThrottleMode,
    windowMs: Number(hash.windowMs),
    first: Number(hash.first),
    last: Number(hash.last),
    count: Number(hash.count),
  };
  if (hash.claimedAt !== undefined) window.claimedAt = Number(hash.claimedAt);
  if (hash.data !== undefined) window.data = JSON.parse(hash.data);
  const itemFields = Object.keys(hash).filter((f) => f.startsWith('i:'));
  if (itemFields.length > 0) {
    window.items = itemFields
      .map((f) => [Number(f.slice(2)), hash[f] as string] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, json]) => JSON.parse(json) as unknown);
  }
  return window;
}
