/**
 * Bench-only preload for a measured process (`node -r dist/bench/lib/heap-preload.js <entry>`):
 * on SIGUSR2 it runs a full GC, prints one line
 * `bench-heap {"seq":n,"memoryUsage":{...},"heapSpaces":{...},"file":...}` on stdout, and, when BENCH_HEAP_DIR is
 * set, writes a heap snapshot there first (`<label>-<pid>-<n>.heapsnapshot`, label from
 * BENCH_HEAP_LABEL). The entry point itself is unchanged; nothing happens until the signal.
 * (Not SIGUSR1: that one opens Node's inspector.)
 */
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const dir = process.env.BENCH_HEAP_DIR;
const label = process.env.BENCH_HEAP_LABEL ?? 'heap';
let seq = 0;

process.on('SIGUSR2', () => {
  seq++;
  gc();
  const memoryUsage = process.memoryUsage();
  // Resident bytes of each V8 heap space (new, old, code, large objects, ...) and what is used of it.
  const heapSpaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [
      s.space_name,
      { physical: s.physical_space_size, used: s.space_used_size },
    ]),
  );
  let file: string | undefined;
  if (dir) {
    // writeHeapSnapshot collects garbage again itself; the figures above are from before it.
    file = writeHeapSnapshot(path.join(dir, `${label}-${process.pid}-${seq}.heapsnapshot`));
  }
  process.stdout.write(
    `bench-heap ${JSON.stringify({ seq, memoryUsage, heapSpaces, ...(file ? { file } : {}) })}\n`,
  );
});
