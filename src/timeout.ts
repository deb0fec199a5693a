/**
 * Settles like `work`, or with what `late()` returns (or throws) if `work` has not settled within
 * `ms`. The timer never outlives the race, so a bounded wait keeps no process alive. `work` is not
 * cancelled: a caller that gives up on it says what happens to it.
 */
export async function within<T, L>(work: Promise<T>, ms: number, late: () => L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<L>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
