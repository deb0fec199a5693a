import { Stack, testConfig } from '../helpers/stack';
import { TestRedisServer } from '../helpers/redis-server';
import { spawnGateway, spawnWorker } from '../helpers/fault';
import { sleep, until } from '../helpers/wait';
import { line, orderApp, postOrderEvent, startProducer, summarize } from './app';

const OUTAGE_MS = 1500;
/** BullMQ lock of the worker: bounds how late a job caught mid-flight by the outage is re-run. */
const LOCK_MS = 5000;

describe('client library: Redis restarted under a gateway process and a worker process', () => {
  let redis: TestRedisServer;
  let stack: Stack;
  beforeAll(async () => {
    redis = await TestRedisServer.start();
    stack = new Stack(
      testConfig({
        REDIS_URL: redis.url,
        ENQUEUE_TIMEOUT_MS: '1000',
        WORKER_LOCK_MS: String(LOCK_MS),
        RATE_HTTP_BURST: '100000',
        RATE_HTTP_PER_SEC: '100000',
      }),
    );
  }, 30_000);
  afterAll(async () => {
    // Either is still unset when beforeAll failed before creating it.
    await (stack as Stack | undefined)?.close();
    await (redis as TestRedisServer | undefined)?.close();
  }, 30_000);

  it('the gateway closes its clients while its subscriber is away; the library comes back and recovers: every accepted event once, in room order', async () => {
    const [gateway] = await Promise.all([spawnGateway(stack), spawnWorker(stack)]);
    const app = await orderApp(
      {
        url: `http://127.0.0.1:${gateway.port}`,
        token: () => stack.token('ops', ['admin']),
        socket: { reconnectionDelay: 100, reconnectionDelayMax: 500, randomizationFactor: 0 },
      },
      'rr',
    );
    const producer = startProducer(postOrderEvent(stack, gateway, 'rr'));
    try {
      await until(() => app.seen.length >= 50, 15_000, 'live events before the fault');

      await redis.stopProcess(true); // SIGTERM: Redis flushes its AOF and exits
      await sleep(OUTAGE_MS); // the outage itself
      await redis.startProcess();
      const backAt = Date.now();
      await until(() => app.connects.length >= 2, 15_000, 'the library reconnecting');
      await until(() => app.liveSince(backAt) >= 30, 15_000, 'live events after the restart');
    } finally {
      await producer.stop();
    }
    await until(() => producer.accepted.every(app.has), 4 * LOCK_MS, 'every accepted event').catch(
      () => undefined,
    );
    app.client.close();

    const s = summarize(app.seen, producer.accepted);
    // A 503 means "not known to be accepted": Redis may have applied the write and lost only the
    // reply. Such an event is delivered although its POST was refused; any other extra is a bug.
    const unexplained = s.extra.filter((e) => !producer.refusedNotes.has(e.note ?? ''));
    console.log(
      `client library, Redis SIGTERM + ${OUTAGE_MS} ms down: ${line(s, app.client)}; ${producer.refusals.length} POSTs refused ` +
        `(${[...new Set(producer.refusals)].join(', ')}), ${s.extra.length} delivered despite a 503; disconnects ${JSON.stringify(app.disconnects)}`,
    );
    expect(producer.refusals.length).toBeGreaterThan(0); // the outage was real
    expect(app.disconnects.length).toBeGreaterThan(0);
    expect({ missing: s.missing.length, sample: s.missing.slice(0, 5) }).toEqual({
      missing: 0,
      sample: [],
    });
    expect(unexplained).toEqual([]);
    expect(s).toMatchObject({ duplicates: 0, outOfRoomOrder: 0 });
    expect(app.incomplete).toEqual([]);
    // Accept order is reported, not asserted: a batch whose job the outage caught mid-flight is
    // re-run after batches emitted meanwhile (docs/delivery.md, Order); room order holds regardless.
  }, 90_000);
});
