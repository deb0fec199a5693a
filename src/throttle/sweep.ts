import { logger } from '../logger';
import type { ThrottleFlusher } from './flusher';
import type { ThrottleStore } from './store';

const log = logger('throttle-sweep');

export interface SweepResult {
  /** Open windows flushed because their flush job never came. */
  windows: number;
  /** Claims re-emitted because the worker that claimed them died before releasing. */
  claims: number;
  /** Accepted events the emits stood for. */
  events: number;
}

/**
 * The safety net behind flush jobs: emits open windows older than their window plus `graceMs`, and
 * claims older than `graceMs`. Runs from a BullMQ job scheduler (see jobs.ts); also callable directly.
 */
export async function sweepWindows(
  store: ThrottleStore,
  flusher: ThrottleFlusher,
  graceMs: number,
  chunk = 500,
): Promise<SweepResult> {
  const result: SweepResult = { windows: 0, claims: 0, events: 0 };
  const now = await store.now();

  for (const ref of await store.claimedBefore(now - graceMs, chunk)) {
    const claim = await store.readClaim(ref);
    if (!claim) {
      await store.release(ref); // index left over from a release cut short
      continue;
    }
    if (await flusher.emitClaimed(claim)) {
      result.claims += 1;
      result.events += claim.count;
    }
  }

  const candidates = await store.summaries(await store.openedBefore(now - graceMs, chunk));
  for (const window of candidates) {
    if (window.first + window.windowMs + graceMs > now) continue;
    const { window: flushed } = await flusher.flush(window.throttleKey, window.id);
    if (flushed) {
      result.windows += 1;
      result.events += flushed.count;
    }
  }
  if (result.windows + result.claims > 0)
    log.warn(result, 'sweep emitted windows whose flush was lost');
  return result;
}
