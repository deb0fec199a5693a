/** How `npm start` spaces the restarts of a process that keeps stopping on its own. */
export const RESTART_FIRST_MS = 1_000;
export const RESTART_MAX_MS = 30_000;
/** A process that stayed up this long was healthy: its next crash starts the backoff over. */
export const RESTART_RESET_AFTER_MS = 60_000;

/**
 * After a process stopped on its own: how many crashes in a row that makes (counting this one) and
 * how long to wait before starting it again: 1 s, doubling per crash in a row up to 30 s. `crashes`
 * is the count before this crash, `upMs` how long the process had been running.
 */
export function restartBackoff(
  crashes: number,
  upMs: number,
): { crashes: number; delayMs: number } {
  const inARow = upMs >= RESTART_RESET_AFTER_MS ? 1 : crashes + 1;
  return {
    crashes: inARow,
    delayMs: Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** (inARow - 1)),
  };
}
