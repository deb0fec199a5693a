import { lookupEvent, type EventMeta } from '../catalog';
import type { BatchEmitter, EmitItem } from '../delivery/batch-emitter';
import { logger } from '../logger';
import type { ThrottleStore, ThrottleWindow } from './store';

const log = logger('throttle-flush');

export interface FlushResult {
  /** The window emitted, or undefined when there was nothing left (already flushed or dropped). */
  window?: ThrottleWindow;
}

/**
 * Turns throttle windows into emits: claim (atomic rename), emit (a batch of one, whose id is the
 * window's), release. A crash between claim and release leaves the claim in Redis; the job's retry
 * or the sweep finishes it with the same `meta.id` and `ts`. The emit marker makes that finish
 * publish nothing a second time if the first run had already emitted.
 */
export class ThrottleFlusher {
  constructor(
    private readonly store: ThrottleStore,
    private readonly emitter: BatchEmitter,
    /** Test hook (config FLUSH_PAUSE_AFTER_CLAIM_MS): wait between claim and emit. */
    private readonly pauseAfterClaimMs = 0,
    /** Told the event name of each window discarded as undeliverable (metrics). */
    private readonly onUndeliverable: (event: string) => void = () => undefined,
  ) {}

  /** Flushes one window of a key: `windowId` from a flush job, or none for whatever is open now. */
  async flush(throttleKey: string, windowId?: string): Promise<FlushResult> {
    const window = await this.store.claim(throttleKey, windowId);
    if (!window) return {};
    if (this.pauseAfterClaimMs > 0) {
      log.info(
        { throttleKey, windowId: window.id },
        'throttle window claimed; pausing before emit (test hook)',
      );
      await new Promise((r) => setTimeout(r, this.pauseAfterClaimMs));
    }
    await this.emitClaimed(window);
    return { window };
  }

  /**
   * Emits a claimed window and releases it. The payloads are validated again (the producer may run
   * another catalog version); a window that can never be valid is released with an error log.
   */
  async emitClaimed(window: ThrottleWindow): Promise<boolean> {
    return (await this.emitClaimedMany([window])) === 1;
  }

  /**
   * Emits claimed windows as one batch (one script call, handlers included) whose id is the first
   * window's, then releases them all. Returns how many were emitted.
   */
  async emitClaimedMany(windows: ThrottleWindow[]): Promise<number> {
    const items: EmitItem[] = [];
    for (const window of windows) {
      const data = this.deliverable(window);
      if (data === undefined) continue;
      const meta: EventMeta = {
        id: window.id,
        ts: window.claimedAt ?? window.last,
        ns: window.ns,
        room: window.room,
        coalesced: window.count,
      };
      items.push({ event: window.event, data, meta });
    }
    const batchId = items[0]?.meta.id;
    if (batchId !== undefined) await this.emitter.emit(batchId, items);
    await Promise.all(windows.map((w) => this.store.release(this.store.claimRefOf(w))));
    return items.length;
  }

  private deliverable(window: ThrottleWindow): unknown {
    try {
      const entry = lookupEvent(window.event);
      if (entry.namespace !== window.ns)
        throw new Error(`event ${entry.name} belongs to ${entry.namespace}, not ${window.ns}`);
      if (window.mode === 'batch') {
        return { items: (window.items ?? []).map((item) => entry.schema.parse(item)) };
      }
      return entry.schema.parse(window.data);
    } catch (err) {
      log.error(
        { throttleKey: window.throttleKey, windowId: window.id, err: (err as Error).message },
        'throttle window is not deliverable; discarded',
      );
      this.onUndeliverable(window.event);
      return undefined;
    }
  }
}
