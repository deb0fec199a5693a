import type { JobsOptions, Queue } from 'bullmq';
import { lookupEvent } from '../catalog';
import { GatewayError } from '../errors';
import { addDeliveryBatch, prepareEnvelope } from '../events/event-manager';
import { addEmitClaimed } from '../throttle/jobs';
import type {
  ClaimRef,
  IndexPosition,
  ThrottleStore,
  ThrottleWindow,
  ThrottleMode,
} from '../throttle/store';
import { checkThrottleKey, ThrottleKeySchema, windowMatcher, type WindowFilter } from './filters';
import type { JobControl } from './jobs';

const CHUNK = 500;

export interface WindowSummary {
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

export interface ListWindowsInput extends WindowFilter {
  limit: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string | undefined;
}

export interface FlushOutcome {
  windows: number;
  events: number;
}

export type FlushTarget = { key: string } | { all: true };
export type FlushProgress = (done: number, total: number) => void;

/** Where operator emits go: the same queues as every other emit, consumed by the workers. */
export interface OperatorQueues {
  delivery: Queue;
  throttle: Queue;
  jobOptions: JobsOptions;
}

/**
 * The operator's core: the CLI, the admin HTTP routes and application code all call these, so the
 * three behave the same. Reads go through the throttle index, never a keyspace SCAN. Emits (flush,
 * force-emit) are handed to the workers, which emit them like every other event and run their
 * handlers; this process never publishes to the gateways itself. Built by the composition root
 * (src/app/runtime.ts for a gateway, src/app/management.ts for the CLI).
 */
export class Management {
  constructor(
    readonly store: ThrottleStore,
    private readonly queues: OperatorQueues,
    /** Failed jobs, pause/resume, handler introspection. */
    readonly jobs: JobControl,
    private readonly onClose: () => Promise<void> = () => Promise.resolve(),
  ) {}

  /** How many open windows match, and how many accepted events they hold. */
  async countWindows(filter: WindowFilter = {}): Promise<FlushOutcome> {
    const matches = windowMatcher(filter);
    const total: FlushOutcome = { windows: 0, events: 0 };
    for (let after: IndexPosition | undefined; ;) {
      const page = await this.store.indexPage(CHUNK, after);
      const windows = await this.store.summaries(page.map((p) => p.throttleKey).filter(matches));
      total.windows += windows.length;
      for (const w of windows) total.events += w.count;
      if (page.length < CHUNK) return total;
      after = page[page.length - 1];
    }
  }

  /**
   * One page of open windows, oldest first. `nextCursor` (the last item's place) is null on the last
   * page; windows that open or flush between pages neither shift nor repeat the others.
   */
  async listWindows(
    input: ListWindowsInput,
  ): Promise<{ items: WindowSummary[]; nextCursor: string | null }> {
    const matches = windowMatcher(input);
    const limit = Math.max(1, Math.min(1000, Math.floor(input.limit)));
    let after = parseCursor(input.cursor);
    const now = await this.store.now();
    const items: WindowSummary[] = [];
    for (;;) {
      const page = await this.store.indexPage(CHUNK, after);
      const wanted = page.filter((p) => matches(p.throttleKey));
      const windows = new Map(
        (await this.store.summaries(wanted.map((p) => p.throttleKey))).map((w) => [
          w.throttleKey,
          w,
        ]),
      );
      for (const [i, position] of page.entries()) {
        const window = windows.get(position.throttleKey);
        if (window) items.push(summarize(window, now));
        if (items.length === limit) {
          const more = i < page.length - 1 || (await this.store.indexPage(1, position)).length > 0;
          return { items, nextCursor: more ? formatCursor(position) : null };
        }
      }
      if (page.length < CHUNK) return { items, nextCursor: null };
      after = page[page.length - 1];
    }
  }

  /**
   * Emits now: one key's open window, or every window open when the call started. Each window is
   * claimed here (so it is counted once and no new event joins it) and handed to the delivery queue,
   * where a worker emits it and runs its handlers; a claim whose job is lost is emitted by the sweep.
   */
  async flushWindows(target: FlushTarget, onProgress?: FlushProgress): Promise<FlushOutcome> {
    if ('key' in target) {
      const key = checkThrottleKey(target.key);
      const window = await this.store.claim(key);
      if (!window) throw new GatewayError('not_found', `no open window ${key}`);
      await this.handOver([this.store.claimRefOf(window)]);
      return { windows: 1, events: window.count };
    }
    const startedAt = await this.store.now();
    const total = await this.store.indexSize();
    const done: FlushOutcome = { windows: 0, events: 0 };
    for (;;) {
      const ids = await this.store.openedBefore(startedAt, CHUNK);
      const claimed: ClaimRef[] = [];
      for (const id of ids) {
        const window = await this.store.claim(id);
        if (!window) continue;
        claimed.push(this.store.claimRefOf(window));
        done.windows += 1;
        done.events += window.count;
      }
      const flushedNow = claimed.length;
      if (flushedNow > 0) await this.handOver(claimed);
      onProgress?.(done.windows, Math.max(total, done.windows));
      if (ids.length < CHUNK || flushedNow === 0) return done;
    }
  }

  /** Discards one key's open window without emitting; says what it held. */
  async dropWindow({
    key,
  }: {
    key: string;
  }): Promise<{ dropped: WindowSummary & { data?: unknown; items?: unknown[] } }> {
    const throttleKey = checkThrottleKey(key);
    const window = await this.store.drop(throttleKey);
    if (!window) throw new GatewayError('not_found', `no open window ${throttleKey}`);
    const dropped: WindowSummary & { data?: unknown; items?: unknown[] } = summarize(
      window,
      await this.store.now(),
    );
    if (window.data !== undefined) dropped.data = window.data;
    if (window.items !== undefined) dropped.items = window.items;
    return { dropped };
  }

  /** Claimed windows to the workers; `unavailable` if Redis refuses (the sweep still emits them). */
  private async handOver(claims: ClaimRef[]): Promise<void> {
    try {
      await addEmitClaimed(this.queues.delivery, claims, this.queues.jobOptions);
    } catch (err) {
      throw new GatewayError(
        'unavailable',
        `claimed, but not handed to the workers (the sweep will emit it): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Validates with the catalog and emits at once, bypassing the throttle: any open window of the
   * same key stays as it is and flushes on its own schedule. A `batch` event goes out as
   * `{ items: [payload] }` so clients see the shape they always get for it. Queued as a delivery
   * batch of one: a worker emits it and runs its handlers.
   */
  async forceEmit(
    event: unknown,
    payload: unknown,
    target?: unknown,
  ): Promise<{ id: string; namespace: string; room: string }> {
    const envelope = prepareEnvelope({ event, data: payload, target });
    const { delivery } = lookupEvent(envelope.event);
    if (delivery.kind === 'throttle') {
      envelope.coalesced = 1;
      if (delivery.mode === 'batch') envelope.data = { items: [envelope.data] };
    }
    try {
      await addDeliveryBatch(this.queues.delivery, [envelope], this.queues.jobOptions);
    } catch (err) {
      throw new GatewayError('unavailable', `event store unavailable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return { id: envelope.id, namespace: envelope.ns, room: envelope.room };
  }

  async close(): Promise<void> {
    await this.jobs.close();
    await this.onClose();
  }
}

function summarize(w: ThrottleWindow, now: number): WindowSummary {
  return {
    key: w.throttleKey,
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

/** A cursor is the last item's place, `<first-seen ms>.<throttle key>`, base64url (opaque to callers). */
function formatCursor(position: IndexPosition): string {
  return Buffer.from(`${position.first}.${position.throttleKey}`).toString('base64url');
}

function parseCursor(cursor: string | undefined): IndexPosition | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const match = /^(\d{1,15})\.(.+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match || !ThrottleKeySchema.safeParse(match[2]).success)
    throw new GatewayError('invalid_argument', 'cursor must be a value returned as nextCursor');
  return { first: Number(match[1]), throttleKey: match[2] as string };
}
