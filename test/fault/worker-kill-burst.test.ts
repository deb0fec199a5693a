import type { Job } from 'bullmq';
import { killChild, Stack, testConfig } from '../helpers/stack';
import { RoomTracker, spawnWorker } from '../helpers/fault';
import { call, nextEvent, sleep, until } from '../helpers/wait';

const TOTAL = 5000;
const CHUNK = 100;
/** Delivered events after which the worker is killed: well inside the burst. */
const KILL_AFTER = 1000;
/**
 * BullMQ's job lock (and stalled-check interval). A SIGKILLed worker's in-flight jobs go back to
 * the queue only once their lock has expired and a stalled check has seen them twice: with the
 * 30 s default that is 30-60 s, too long for a bounded test, so the test shortens it.
 */
const LOCK_MS = 4000;

describe('fault: worker process SIGKILLed in the middle of a 5,000-event burst', () => {
  const stack = new Stack(testConfig({ WORKER_LOCK_MS: String(LOCK_MS) }));
  afterAll(() => stack.close(), 30_000);

  it('a new worker delivers every accepted event (at least once; duplicates counted)', async () => {
    const gw = await stack.gateway();
    const queue = gw.runtime.events.queue;
    const client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    const seen = new RoomTracker().attach(client);
    await call(client, 'join_order', { orderId: 'burst' });
    const first = await spawnWorker(stack);

    // The producer: 5,000 immediate events into one room through the EventManager, in chunks, so
    // it is still accepting while the worker dies.
    const accepted: string[] = [];
    const producing = (async () => {
      for (let n = 0; n < TOTAL; n += CHUNK) {
        const chunk = await Promise.all(
          Array.from({ length: CHUNK }, (_, i) =>
            gw.runtime.events.emit('order_status_changed', {
              orderId: 'burst',
              status: 'preparing',
              note: String(n + i),
            }),
          ),
        );
        accepted.push(...chunk.map((a) => a.id));
        await sleep(10); // the producer's pace: still accepting while the worker dies
      }
    })();

    await until(
      () => seen.unique >= KILL_AFTER,
      30_000,
      `${KILL_AFTER} deliveries before the kill`,
    );
    // Freeze the worker until batches are queued behind whatever it holds, then kill it: the kill
    // lands with delivery batches in flight (taken by the dead worker, or waiting for one).
    process.kill(first.child.pid!, 'SIGSTOP');
    await until(
      async () => ((await queue.getJobCounts('wait')).wait ?? 0) >= 2,
      10_000,
      'batches queued behind the frozen worker',
    );
    const inFlightAtKill = await queue.getJobCounts('wait', 'active');
    const waitingAtKill = inFlightAtKill.wait ?? 0;
    const acceptedAtKill = accepted.length;
    await killChild(first.child, 'SIGKILL');
    const killedAt = Date.now();
    const deliveredAtKill = seen.unique;
    const orphaned = (await queue.getJobCounts('active')).active;
    // Really mid-burst: the dead worker left events undelivered, in several queued batches.
    expect(deliveredAtKill).toBeLessThan(TOTAL);
    expect(waitingAtKill).toBeGreaterThanOrEqual(2);

    await producing;
    expect(accepted).toHaveLength(TOTAL);
    expect(new Set(accepted).size).toBe(TOTAL);
    // No worker runs, so no barrier can come through the queue: this gives what the dead worker
    // published just before the kill time to land before counting what is stuck.
    await sleep(300);
    const stuckBeforeRestart = TOTAL - seen.unique;
    expect(stuckBeforeRestart).toBeGreaterThan(0);

    await spawnWorker(stack);
    // Delivery jobs not finished yet (completed ones are removed); the sweep's scheduled job is not one.
    const remaining = async () =>
      (await queue.getJobs(['wait', 'active', 'delayed', 'prioritized'], 0, 200)).filter(
        (j: Job | undefined) => j?.name === 'batch',
      ).length; // a job removed meanwhile is listed as undefined
    // Every id delivered and the queue drained (late duplicates of re-run jobs included).
    await until(
      async () => seen.unique >= TOTAL && (await remaining()) === 0,
      45_000,
      'all deliveries',
    ).catch(() => undefined);
    const allAfterMs = Date.now() - killedAt;
    // A barrier: one more event to the room (another event name, so the tracker does not count it),
    // through the queue and the new worker; a late duplicate would have arrived before it.
    const barrier = nextEvent(client, 'payment_confirmed', 10_000);
    await gw.runtime.events.emit('payment_confirmed', {
      orderId: 'burst',
      paymentId: 'barrier',
      amount: 1,
      currency: 'EUR',
    });
    await barrier;

    const { missing, extra } = seen.diff(accepted);
    const failed = (await queue.getJobCounts('failed')).failed;
    console.log(
      `fault: worker SIGKILL mid-burst: ${seen.unique}/${TOTAL} delivered, ${seen.duplicates} duplicates, ` +
        `killed after ${deliveredAtKill} delivered / ${acceptedAtKill} accepted, batches in flight ${JSON.stringify(inFlightAtKill)}, ${orphaned} jobs orphaned active, ` +
        `all delivered ${allAfterMs} ms after the kill (lock ${LOCK_MS} ms), ${failed} failed jobs`,
    );
    expect({ missing: missing.length, sample: missing.slice(0, 5) }).toEqual({
      missing: 0,
      sample: [],
    });
    expect({ extra: extra.length, sample: extra.slice(0, 5) }).toEqual({ extra: 0, sample: [] });
    expect(seen.unique).toBe(TOTAL);
    expect(failed).toBe(0);
    expect(await remaining()).toBe(0);
  }, 60_000);
});
