import type { EventMeta } from '../../src/catalog';
import type { Gateway } from '../../src/gateway/server';
import { flushJobId, SWEEP_SCHEDULER_ID } from '../../src/throttle/jobs';
import { Stack, testConfig, waitForOutput, killChild } from '../helpers/stack';
import { call, nextEvent, until } from '../helpers/wait';

/** Anonymous post-room clients: no presence transitions, so only the test's own windows are throttle. */
const ANONYMOUS = {};

describe('throttle windows survive a worker killed mid-flush and a lost flush job', () => {
  // Each test has its own gateway (and no worker yet) on its own Redis prefix.
  let stack: Stack;
  let gw: Gateway;
  beforeEach(async () => {
    stack = new Stack(
      testConfig({ SWEEP_INTERVAL_MS: '300', SWEEP_GRACE_MS: '200', AUTH_MODE: 'anonymous' }),
    );
    gw = await stack.gateway();
  });
  afterEach(() => stack.close());

  it('a worker process SIGKILLed after claiming: the next worker emits the claim with the same meta.id', async () => {
    const client = await stack.client(gw, '/social', ANONYMOUS);
    await call(client, 'join_post', { postId: 'k' });
    const accepted = await Promise.all(
      [1, 2, 3].map((n) =>
        gw.runtime.events.emit('post_liked', { postId: 'k', userId: `u${n}`, likeCount: n }),
      ),
    );
    const windowId = accepted[0]!.id;

    // This worker claims at the window's end, then pauses (test hook) instead of emitting. Its own
    // sweep grace is long, so it cannot rescue the claim itself.
    const doomed = stack.spawnTs('workers/main.ts', {
      FLUSH_PAUSE_AFTER_CLAIM_MS: '60000',
      SWEEP_INTERVAL_MS: '300',
      SWEEP_GRACE_MS: '600000',
    });
    await waitForOutput(doomed, 'throttle window claimed');
    await killChild(doomed, 'SIGKILL');
    const throttle = gw.runtime.events.throttle;
    expect(
      (await throttle.claimedBefore(Number.MAX_SAFE_INTEGER, 10)).map((ref) => ref.windowId),
    ).toEqual([windowId]);
    expect(await gw.runtime.management.countWindows()).toEqual({ windows: 0, events: 0 });

    const received = nextEvent<{ likeCount: number }, EventMeta>(client, 'post_liked', 15_000);
    const rescuer = stack.spawnTs('workers/main.ts', {
      SWEEP_INTERVAL_MS: '300',
      SWEEP_GRACE_MS: '200',
    });
    await waitForOutput(rescuer, 'worker ready');
    const [data, meta] = await received;
    expect(meta).toMatchObject({ id: windowId, coalesced: 3, room: 'post:k' });
    expect(data.likeCount).toBe(3);
    await until(
      async () => (await throttle.claimedBefore(Number.MAX_SAFE_INTEGER, 10)).length === 0,
      5000,
      'the claim to be released',
    );
    await killChild(rescuer, 'SIGTERM');
  });

  it('a lost flush job: the sweep scheduler emits the entry', async () => {
    const client = await stack.client(gw, '/social', ANONYMOUS);
    await call(client, 'join_post', { postId: 'lost' });
    const { id: windowId } = await gw.runtime.events.emit('post_liked', {
      postId: 'lost',
      userId: 'u',
      likeCount: 41,
    });
    await gw.runtime.events.emit('post_liked', { postId: 'lost', userId: 'u', likeCount: 42 });

    const queue = gw.runtime.events.throttleQueue;
    const job = await queue.getJob(flushJobId(windowId));
    expect(job).toBeDefined();
    await job!.remove();
    expect(await queue.getJob(flushJobId(windowId))).toBeUndefined();

    const received = nextEvent<{ likeCount: number }, EventMeta>(client, 'post_liked', 15_000);
    await stack.worker();
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers).toEqual([expect.objectContaining({ key: SWEEP_SCHEDULER_ID, every: 300 })]);
    const [data, meta] = await received;
    expect(meta).toMatchObject({ id: windowId, coalesced: 2 });
    expect(data.likeCount).toBe(42);
    expect(await gw.runtime.management.countWindows()).toEqual({ windows: 0, events: 0 });
  });
});
