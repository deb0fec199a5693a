import { lookupEvent, type EventMeta } from '../catalog';
import type { RoomPublisher } from '../delivery/room-publisher';
import { logger } from '../logger';
import type { PendingStore, PendingWindow } from './store';

const log = logger('pending-flush');

export interface FlushResult {
  /** The window emitted, or undefined when there was nothing left (already flushed or dropped). */
  window?: PendingWindow;
}

/**
 * Turns pending windows into emits: claim (atomic rename), emit through the room publisher,
 * release. A crash between claim and release leaves the claim in Redis; the job's retry or the
 * sweep re-emits it with the same `meta.id` and `ts` (at-least-once, clients de-duplicate).
 */
export class PendingFlusher {
  constructor(
    private readonly store: PendingStore,
    private readonly publisher: RoomPublisher,
    /** Test hook (config FLUSH_PAUSE_AFTER_CLAIM_MS): wait between claim and emit. */
    private readonly pauseAfterClaimMs = 0,
    /** Runs after each emit, before the claim is released (the worker dispatches handlers here). */
    private readonly afterEmit?: (event: string, data: unknown, meta: EventMeta) => Promise<void>,
  ) {}

  /** Flushes one window of a key: `windowId` from a flush job, or none for whatever is open now. */
  async flush(pendingId: string, windowId?: string): Promise<FlushResult> {
    const window = await this.store.claim(pendingId, windowId);
    if (!window) return {};
    if (this.pauseAfterClaimMs > 0) {
      log.info({ pendingId, windowId: window.id }, 'pending window claimed; pausing before emit (test hook)');
      await new Promise((r) => setTimeout(r, this.pauseAfterClaimMs));
    }
    await this.emitClaimed(window);
    return { window };
  }

  /**
   * Emits a claimed window and releases it. The payloads are validated again (the producer may run
   * another catalog version); a window that can never be valid is released with an error log.
   */
  async emitClaimed(window: PendingWindow): Promise<boolean> {
    const data = this.deliverable(window);
    if (data === undefined) {
      await this.store.release(window.id);
      return false;
    }
    const meta: EventMeta = { id: window.id, ts: window.claimedAt ?? window.last, ns: window.ns, room: window.room, coalesced: window.count };
    const { offset } = await this.publisher.emit(window.ns, window.room, window.event, data, meta);
    if (offset !== undefined) meta.offset = offset;
    await this.afterEmit?.(window.event, data, meta);
    await this.store.release(window.id);
    return true;
  }

  private deliverable(window: PendingWindow): unknown {
    try {
      const entry = lookupEvent(window.event);
      if (entry.namespace !== window.ns) throw new Error(`event ${entry.name} belongs to ${entry.namespace}, not ${window.ns}`);
      if (window.mode === 'batch') {
        return { items: (window.items ?? []).map((item) => entry.schema.parse(item)) };
      }
      return entry.schema.parse(window.data);
    } catch (err) {
      log.error({ pendingId: window.pendingId, windowId: window.id, err: (err as Error).message }, 'pending window is not deliverable; discarded');
      return undefined;
    }
  }
}
