import type { Redis } from 'ioredis';
import { lookupEvent, type EventMeta } from '../catalog';
import type { Config } from '../config';
import { RoomPublisher } from '../delivery/room-publisher';
import type { HistoryDefaults } from '../history/policy';
import { GatewayError } from '../errors';
import { prepareEnvelope } from '../events/event-manager';
import { PendingFlusher } from '../pending/flusher';
import { PendingStore, type PendingWindow, type ThrottleMode } from '../pending/store';
import { closeRedis, connectRedis, redactUrl } from '../redis/connections';
import { createKeys } from '../redis/keys';
import { checkPendingKey, pendingMatcher, type PendingFilter } from './filters';
import { JobControl } from './jobs';

const CHUNK = 500;

export interface PendingSummary {
  key: string;
  event: string;
  namespace: string;
  room: string;
  count: number;
  ageMs: number;
  mode: ThrottleMode;
  windowMs: number;
  /** The id the window's emit will carry as `meta.id`. */
  id: string;
}

export interface ListPendingInput extends PendingFilter {
  limit: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string | undefined;
}

export interface FlushOutcome {
  entries: number;
  events: number;
}

export type FlushTarget = { key: string } | { all: true };
export type FlushProgress = (done: number, total: number) => void;

/**
 * The operator's core: the CLI, the admin HTTP routes and application code all call these, so the
 * three behave the same. Reads go through the pending index, never a keyspace SCAN.
 *
 * @example
 *   const m = await openManagement(loadConfig());
 *   console.log(await m.pendingCount({ event: 'post_liked' }));
 *   await m.flushPending({ all: true });
 *   await m.close();
 */
export class Management {
  readonly flusher: PendingFlusher;

  constructor(
    readonly store: PendingStore,
    readonly publisher: RoomPublisher,
    /** Failed jobs, pause/resume, handler introspection. */
    readonly jobs: JobControl,
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {
    this.flusher = new PendingFlusher(store, publisher);
  }

  /** How many open windows (entries) match, and how many accepted events they hold. */
  async pendingCount(filter: PendingFilter = {}): Promise<FlushOutcome> {
    const matches = pendingMatcher(filter);
    const total: FlushOutcome = { entries: 0, events: 0 };
    for (let offset = 0; ; offset += CHUNK) {
      const ids = await this.store.indexRange(offset, CHUNK);
      const windows = await this.store.summaries(ids.filter(matches));
      total.entries += windows.length;
      for (const w of windows) total.events += w.count;
      if (ids.length < CHUNK) return total;
    }
  }

  /** One page of open windows, oldest first. `nextCursor` is null on the last page. */
  async listPending(input: ListPendingInput): Promise<{ items: PendingSummary[]; nextCursor: string | null }> {
    const matches = pendingMatcher(input);
    const limit = Math.max(1, Math.min(1000, Math.floor(input.limit)));
    let offset = parseCursor(input.cursor);
    const now = await this.store.now();
    const items: PendingSummary[] = [];
    while (items.length < limit) {
      const ids = await this.store.indexRange(offset, CHUNK);
      for (const [i, id] of ids.entries()) {
        if (!matches(id)) continue;
        const [window] = await this.store.summaries([id]);
        if (window) items.push(summarize(window, now));
        if (items.length === limit) {
          offset += i + 1;
          const more = (await this.store.indexSize()) > offset;
          return { items, nextCursor: more ? String(offset) : null };
        }
      }
      if (ids.length < CHUNK) break;
      offset += ids.length;
    }
    return { items, nextCursor: null };
  }

  /** Emits now: one key's open window, or every window open when the call started. */
  async flushPending(target: FlushTarget, onProgress?: FlushProgress): Promise<FlushOutcome> {
    if ('key' in target) {
      const key = checkPendingKey(target.key);
      const { window } = await this.flusher.flush(key);
      if (!window) throw new GatewayError('not_found', `no pending entry ${key}`);
      return { entries: 1, events: window.count };
    }
    const startedAt = await this.store.now();
    const total = await this.store.indexSize();
    const done: FlushOutcome = { entries: 0, events: 0 };
    for (;;) {
      const ids = await this.store.openedBefore(startedAt, CHUNK);
      let flushedNow = 0;
      for (const id of ids) {
        const { window } = await this.flusher.flush(id);
        if (!window) continue;
        flushedNow += 1;
        done.entries += 1;
        done.events += window.count;
      }
      onProgress?.(done.entries, Math.max(total, done.entries));
      if (ids.length < CHUNK || flushedNow === 0) return done;
    }
  }

  /** Discards one key's open window without emitting; says what it held. */
  async dropPending({ key }: { key: string }): Promise<{ dropped: PendingSummary & { data?: unknown; items?: unknown[] } }> {
    const pendingId = checkPendingKey(key);
    const window = await this.store.drop(pendingId);
    if (!window) throw new GatewayError('not_found', `no pending entry ${pendingId}`);
    const dropped: PendingSummary & { data?: unknown; items?: unknown[] } = summarize(window, await this.store.now());
    if (window.data !== undefined) dropped.data = window.data;
    if (window.items !== undefined) dropped.items = window.items;
    return { dropped };
  }

  /**
   * Validates with the catalog and emits at once, bypassing the throttle: any open window of the
   * same key stays as it is and flushes on its own schedule. A `batch` event goes out as
   * `{ items: [payload] }` so clients see the shape they always get for it.
   */
  async forceEmit(event: unknown, payload: unknown, target?: unknown): Promise<{ id: string; namespace: string; room: string; receivers: number }> {
    const envelope = prepareEnvelope({ event, data: payload, target });
    const { delivery } = lookupEvent(envelope.event);
    const meta: EventMeta = { id: envelope.id, ts: envelope.ts, ns: envelope.ns, room: envelope.room };
    if (delivery.kind === 'throttle') meta.coalesced = 1;
    const data = delivery.kind === 'throttle' && delivery.mode === 'batch' ? { items: [envelope.data] } : envelope.data;
    const { receivers } = await this.publisher.emit(envelope.ns, envelope.room, envelope.event, data, meta);
    return { id: envelope.id, namespace: envelope.ns, room: envelope.room, receivers };
  }

  async close(): Promise<void> {
    await this.jobs.close();
    await this.onClose();
  }
}

export type ManagementConfig = Pick<Config, 'KEY_PREFIX' | 'QUEUE_NAME'> & HistoryDefaults;

/** Management on an existing connection (a gateway's); closing it leaves the connection open. */
export function managementOn(redis: Redis, config: ManagementConfig): Management {
  const keys = createKeys(config.KEY_PREFIX);
  return new Management(new PendingStore(redis, keys), new RoomPublisher(redis, keys, config), new JobControl(redis, keys, config.QUEUE_NAME));
}

/** Management with its own fail-fast connection (the CLI); `unavailable` if Redis does not answer in time. */
export async function openManagement(config: ManagementConfig & Pick<Config, 'REDIS_URL'>, timeoutMs = 3000): Promise<Management> {
  let redis: Redis;
  try {
    redis = await connectRedis(config.REDIS_URL, 'command', 'sb-cli', timeoutMs);
  } catch (err) {
    throw new GatewayError('unavailable', `cannot reach Redis at ${redactUrl(config.REDIS_URL)}: ${(err as Error).message}`, { cause: err });
  }
  const keys = createKeys(config.KEY_PREFIX);
  return new Management(
    new PendingStore(redis, keys),
    new RoomPublisher(redis, keys, config),
    new JobControl(redis, keys, config.QUEUE_NAME),
    () => closeRedis(redis),
  );
}

function summarize(w: PendingWindow, now: number): PendingSummary {
  return {
    key: w.pendingId,
    event: w.event,
    namespace: w.ns,
    room: w.room,
    count: w.count,
    ageMs: Math.max(0, now - w.first),
    mode: w.mode,
    windowMs: w.windowMs,
    id: w.id,
  };
}

function parseCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^\d{1,9}$/.test(cursor)) throw new GatewayError('invalid_argument', 'cursor must be a value returned as nextCursor');
  return Number(cursor);
}
