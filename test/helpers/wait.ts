import type { Socket } from 'socket.io-client';

/** Emits an action and resolves with its ack. */
export function call<T = unknown>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<T>;
}

/** Resolves with `[data, meta]` of the next `event` on the socket, or rejects after `timeoutMs`. */
export function nextEvent<D = unknown, M = unknown>(
  socket: Socket,
  event: string,
  timeoutMs = 5000,
): Promise<[D, M]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (data: D, meta: M) => {
      clearTimeout(timer);
      socket.off(event, handler);
      resolve([data, meta]);
    };
    socket.on(event, handler);
  });
}

/** Records every occurrence of an event on a socket. */
export function record<D = unknown, M = unknown>(socket: Socket, event: string): Array<[D, M]> {
  const seen: Array<[D, M]> = [];
  socket.on(event, (data: D, meta: M) => seen.push([data, meta]));
  return seen;
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). For conditions with no event to wait on. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Records the items of a `batch` event (`{ items }`), one entry per item, with the emit's meta. */
export function recordItems<T = unknown, M = unknown>(
  socket: Socket,
  event: string,
): Array<[T, M]> {
  const seen: Array<[T, M]> = [];
  socket.on(event, (data: { items: T[] }, meta: M) => {
    for (const item of data.items) seen.push([item, meta]);
  });
  return seen;
}

/** What `recordUntil` returns: the occurrences before the barrier, and a wait for the barrier. */
export type RecordedUntil<D, M> = Array<[D, M]> & {
  /** Resolves with the barrier's `[data, meta]` once it has arrived; rejects after `timeoutMs`. */
  barrier(timeoutMs?: number): Promise<[D, M]>;
};

/**
 * For checking that nothing (more) arrives on a socket: records every `event`, like `record`, until
 * the barrier, a later event the test sends through the same path, recognised by `isBarrier`. Once
 * `barrier()` resolves, everything sent before the barrier has been delivered. The barrier itself
 * is not recorded, nor is anything after it.
 */
export function recordUntil<D = unknown, M = unknown>(
  socket: Socket,
  event: string,
  isBarrier: (data: D, meta: M) => boolean,
): RecordedUntil<D, M> {
  const seen: Array<[D, M]> = [];
  let arrived: [D, M] | undefined;
  let wake: ((barrier: [D, M]) => void) | undefined;
  const handler = (data: D, meta: M) => {
    if (isBarrier(data, meta)) {
      arrived = [data, meta];
      socket.off(event, handler);
      wake?.(arrived);
    } else {
      seen.push([data, meta]);
    }
  };
  socket.on(event, handler);
  const barrier = (timeoutMs = 10_000): Promise<[D, M]> =>
    arrived
      ? Promise.resolve(arrived)
      : new Promise((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no barrier ${event} within ${timeoutMs} ms`)),
            timeoutMs,
          );
          wake = (b) => {
            clearTimeout(timer);
            resolve(b);
          };
        });
  // Not enumerable: `expect(recorded).toEqual([...])` compares the occurrences only.
  Object.defineProperty(seen, 'barrier', { value: barrier, enumerable: false });
  return seen as RecordedUntil<D, M>;
}

/**
 * Starts `task` every `everyMs` without waiting for the previous one (a steady publisher through a
 * fault: a slow request must not slow the rate). `stop()` ends the loop and waits for every task
 * still running.
 */
export function every(everyMs: number, task: () => Promise<void>): { stop(): Promise<void> } {
  const running = { on: true };
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    while (running.on) {
      const p = task();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running.on = false;
      await loop;
      await Promise.all([...inFlight]);
    },
  };
}
