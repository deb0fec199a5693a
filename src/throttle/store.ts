import type { RedisClient } from '../redis/connections';
import type { Namespace, ThrottleDelivery } from '../catalog';
import type { Envelope } from '../wire/envelope';
import { GatewayError } from '../errors';
import { newEventId } from '../ids';
import { THROTTLE_SHARDS, throttleKeyOf, type Keys } from '../redis/keys';
import {
  throttleScripts,
  preloadThrottleScripts,
  type ScriptCall,
  type ScriptName,
} from './scripts';

export type ThrottleMode = ThrottleDelivery['mode'];

/** What the add script tells the caller to do next (see lua/throttle-window-5.lua). */
export type AddOutcome =
  | { kind: 'added'; windowId: string }
  | { kind: 'opened'; windowId: string; flushInMs: number }
  | { kind: 'emit-now' }
  /** A full batch window, claimed at once under `claimId`: flush that claim now. */
  | { kind: 'sealed'; windowId: string; claimId: string };

/** One window of a throttled key, open (an entry) or claimed for emitting (a claim). */
export interface ThrottleWindow {
  throttleKey: string;
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
  /** Set once claimed: the window's id, or a fresh id when an add sealed a full batch window. */
  claimId?: string;
  /** `latest`/`leading`: the newest payload. */
  data?: unknown;
  /** `batch`: the payloads in arrival order. */
  items?: unknown[];
}

/** A claimed window's place: its shard and window id. */
export interface ClaimRef {
  shard: number;
  /** The claim's id: the window's id, or the fresh id an add sealed a full batch window under. */
  windowId: string;
}

/** An open window's place in the index: first-seen time, then throttle key. */
export interface IndexPosition {
  first: number;
  throttleKey: string;
}

function comparePositions(a: IndexPosition, b: IndexPosition): number {
  return (
    a.first - b.first ||
    (a.throttleKey < b.throttleKey ? -1 : a.throttleKey > b.throttleKey ? 1 : 0)
  );
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The shard numbers, 0 .. THROTTLE_SHARDS - 1. */
const SHARDS = Array.from({ length: THROTTLE_SHARDS }, (_, shard) => shard);

const SUMMARY_FIELDS = [
  'id',
  'ns',
  'event',
  'room',
  'mode',
  'windowMs',
  'first',
  'last',
  'count',
] as const;

/**
 * The throttle store in Redis: open windows of throttled keys, an index of them by first-seen
 * time (so counting and listing never SCAN the keyspace), and claims being emitted.
 */
export class ThrottleStore {
  private readonly scripts: Record<ScriptName, ScriptCall>;

  constructor(
    readonly redis: RedisClient,
    readonly keys: Keys,
  ) {
    this.scripts = throttleScripts(redis);
  }

  /**
   * Loads the scripts into Redis's script cache (every master of a cluster). Concurrent first adds
   * on a cold cache would otherwise be retried as EVAL out of order: a `latest` window could keep
   * an older payload.
   */
  ready(): Promise<void> {
    return preloadThrottleScripts(this.redis);
  }

  throttleKeyOf(envelope: Pick<Envelope, 'ns' | 'event' | 'room'>): string {
    return throttleKeyOf(envelope.ns, envelope.event, envelope.room);
  }

  /** Adds an accepted event to its key's window: one EVALSHA. */
  async add(envelope: Envelope, delivery: ThrottleDelivery): Promise<AddOutcome> {
    const throttleKey = throttleKeyOf(envelope.ns, envelope.event, envelope.room);
    const shard = this.keys.throttleShardOf(throttleKey);
    // One fresh id: the window's id if this event opens one, else the claim's id if it fills a
    // batch window (a window sealed as it opens, cap 1, is then claimed under its own id).
    const fresh = newEventId();
    const [status, windowId, delay] = (await this.scripts.sbThrottleWindow(
      ...this.windowKeys(throttleKey, shard, fresh),
      'add',
      throttleKey,
      fresh,
      delivery.mode,
      JSON.stringify(envelope.data),
      delivery.windowMs,
      delivery.mode === 'batch' ? delivery.maxItems : 0,
      fresh,
      envelope.ns,
      envelope.event,
      envelope.room,
    )) as [number, string, number];
    switch (status) {
      case 0:
        return { kind: 'added', windowId };
      case 1:
        return { kind: 'opened', windowId, flushInMs: delay };
      case 2:
        return { kind: 'emit-now' };
      case 3:
        return { kind: 'sealed', windowId, claimId: fresh };
      default:
        throw new GatewayError(
          'internal',
          `throttle-window answered an unknown status ${String(status)} for ${throttleKey}`,
        );
    }
  }

  /**
   * Claims a window, or the claim `claimId` names if it is claimed already (a retry, the sweep, a
   * sealed batch); with no `claimId`, whichever window is open for the key. Returns the claim, or
   * undefined when nothing is left to emit.
   */
  async claim(throttleKey: string, claimId?: string): Promise<ThrottleWindow | undefined> {
    const shard = this.keys.throttleShardOf(throttleKey);
    // The claim key names the window, so the open window's id is read first when none is given.
    const wanted = claimId ?? (await this.redis.hget(this.keys.throttleEntry(throttleKey), 'id'));
    if (!wanted) return undefined;
    const flat = (await this.scripts.sbThrottleWindow(
      ...this.windowKeys(throttleKey, shard, wanted),
      'claim',
      throttleKey,
      wanted,
    )) as string[];
    return fromFlatHash(throttleKey, flat);
  }

  /** KEYS of throttle-window: entry, index, lead marker, claims index, and the claim `claimId` names. */
  private windowKeys(
    throttleKey: string,
    shard: number,
    claimId: string,
  ): [string, string, string, string, string] {
    const k = this.keys;
    return [
      k.throttleEntry(throttleKey),
      k.throttleIndex(shard),
      k.throttleLead(throttleKey),
      k.throttleClaims(shard),
      k.throttleClaim(shard, claimId),
    ];
  }

  /** Where a claimed window is kept: its shard and its window id (what jobs and the sweep carry). */
  claimRefOf(window: Pick<ThrottleWindow, 'throttleKey' | 'id' | 'claimId'>): ClaimRef {
    return {
      shard: this.keys.throttleShardOf(window.throttleKey),
      windowId: window.claimId ?? window.id,
    };
  }

  /** A claim left behind (the sweep re-emits these), or one handed to a worker by an operator flush. */
  async readClaim(ref: ClaimRef): Promise<ThrottleWindow | undefined> {
    const hash = await this.redis.hgetall(this.keys.throttleClaim(ref.shard, ref.windowId));
    return fromHash(undefined, hash);
  }

  /** The claim was emitted: forget it. */
  async release(ref: ClaimRef): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.throttleClaim(ref.shard, ref.windowId))
      .zrem(this.keys.throttleClaims(ref.shard), ref.windowId)
      .exec();
  }

  /** Removes an open window without emitting; returns what it held. */
  async drop(throttleKey: string): Promise<ThrottleWindow | undefined> {
    const shard = this.keys.throttleShardOf(throttleKey);
    const flat = (await this.scripts.sbThrottleDrop(
      this.keys.throttleEntry(throttleKey),
      this.keys.throttleIndex(shard),
      throttleKey,
    )) as string[];
    return fromFlatHash(throttleKey, flat);
  }

  /** Open windows: one ZCARD per shard, sent together. */
  async indexSize(): Promise<number> {
    // Commands sent together, not a pipeline: on a cluster the shards are on several nodes, and
    // ioredis sends each node its share at once either way.
    return sum(
      await Promise.all(SHARDS.map((shard) => this.redis.zcard(this.keys.throttleIndex(shard)))),
    );
  }

  /**
   * Open windows after `cursor` in first-seen order (then by throttle key), at most `limit`: a stable
   * order, so a page neither skips nor repeats an entry while other windows open and flush.
   */
  async indexPage(limit: number, after?: IndexPosition): Promise<IndexPosition[]> {
    const reads = SHARDS.flatMap((shard) => {
      const index = this.keys.throttleIndex(shard);
      // Entries of the cursor's very millisecond (few: one burst's), to keep those after it by id;
      // then each shard's first `limit` entries of later times.
      const later = this.redis.zrangebyscore(
        index,
        after ? `(${after.first}` : '-inf',
        '+inf',
        'WITHSCORES',
        'LIMIT',
        0,
        limit,
      );
      return after
        ? [this.redis.zrangebyscore(index, after.first, after.first, 'WITHSCORES'), later]
        : [later];
    });
    const merged: IndexPosition[] = [];
    for (const flat of await Promise.all(reads)) {
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const position = { throttleKey: flat[i] as string, first: Number(flat[i + 1]) };
        if (!after || comparePositions(position, after) > 0) merged.push(position);
      }
    }
    return merged.sort(comparePositions).slice(0, limit);
  }

  /** Open windows first seen at or before `ms`, oldest first, at most `limit` (over all shards). */
  async openedBefore(ms: number, limit: number): Promise<string[]> {
    const reads = SHARDS.map((shard) =>
      this.redis.zrangebyscore(
        this.keys.throttleIndex(shard),
        '-inf',
        String(ms),
        'WITHSCORES',
        'LIMIT',
        0,
        limit,
      ),
    );
    const merged: IndexPosition[] = [];
    for (const flat of await Promise.all(reads)) {
      for (let i = 0; i + 1 < flat.length; i += 2)
        merged.push({ throttleKey: flat[i] as string, first: Number(flat[i + 1]) });
    }
    return merged
      .sort(comparePositions)
      .slice(0, limit)
      .map((p) => p.throttleKey);
  }

  /** Claims made at or before `ms` and not released, at most `limit` per shard. */
  async claimedBefore(ms: number, limit: number): Promise<ClaimRef[]> {
    const reads = SHARDS.map((shard) =>
      this.redis.zrangebyscore(
        this.keys.throttleClaims(shard),
        '-inf',
        String(ms),
        'LIMIT',
        0,
        limit,
      ),
    );
    return (await Promise.all(reads)).flatMap((ids, shard) =>
      ids.map((windowId) => ({ shard, windowId })),
    );
  }

  /** Summaries (no payloads) of open windows, read together; missing ones are skipped. */
  async summaries(throttleKeys: readonly string[]): Promise<ThrottleWindow[]> {
    const replies = await Promise.all(
      throttleKeys.map((id) => this.redis.hmget(this.keys.throttleEntry(id), ...SUMMARY_FIELDS)),
    );
    const out: ThrottleWindow[] = [];
    replies.forEach((values, i) => {
      const hash: Record<string, string> = {};
      SUMMARY_FIELDS.forEach((field, j) => {
        const value = values[j];
        if (value !== null && value !== undefined) hash[field] = value;
      });
      const window = fromHash(throttleKeys[i], hash);
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

function fromFlatHash(throttleKey: string | undefined, flat: string[]): ThrottleWindow | undefined {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
  return fromHash(throttleKey, hash);
}

function fromHash(
  throttleKey: string | undefined,
  hash: Record<string, string>,
): ThrottleWindow | undefined {
  if (!hash.id || !hash.ns || !hash.event || !hash.room) return undefined;
  const window: ThrottleWindow = {
    throttleKey: throttleKey ?? throttleKeyOf(hash.ns, hash.event, hash.room),
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
  if (hash.claimId !== undefined) window.claimId = hash.claimId;
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
