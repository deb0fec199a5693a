import type { ClientOptions } from '../../src/client';
import { killChild, Stack, testConfig } from '../helpers/stack';
import { spawnGateway } from '../helpers/fault';
import { sleep, until } from '../helpers/wait';
import { line, orderApp, postOrderEvent, startProducer, summarize } from './app';
import { TcpProxy } from './tcp-proxy';

/**
 * Faults under an application that uses the client library and nothing else: it listens and
 * joins once. Each test compares what the application received with the ids the one producer got
 * accepted, in accept order: every event exactly once, in room order, with no recovery code.
 */
describe('client library: faults', () => {
  const stacks: Stack[] = [];
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    for (const s of stacks.splice(0)) await s.close();
  }, 30_000);
  const newStack = (env: Record<string, string> = {}) => {
    const stack = new Stack(
      testConfig({ RATE_HTTP_BURST: '100000', RATE_HTTP_PER_SEC: '100000', ...env }),
    );
    stacks.push(stack);
    return stack;
  };
  const reconnect = (delayMs: number): ClientOptions['socket'] => ({
    reconnectionDelay: delayMs,
    reconnectionDelayMax: 1000,
    randomizationFactor: 0,
  });

  it('gateway SIGKILL: the library reconnects to the next URL, re-joins with since, every event once in order', async () => {
    const stack = newStack();
    const [a, b] = await Promise.all([spawnGateway(stack), spawnGateway(stack)]);
    await stack.worker();
    const urlA = `http://127.0.0.1:${a.port}`;
    const urlB = `http://127.0.0.1:${b.port}`;
    // The list is tried in turn: A first, B on the first reconnect attempt. 300 ms before that
    // attempt, so events flow while the client is away (a gap to recover).
    const app = await orderApp(
      { url: [urlA, urlB], token: () => stack.token('ops', ['admin']), socket: reconnect(300) },
      'gk',
    );
    cleanups.push(() => app.client.close());
    expect(app.connects).toEqual([urlA]);

    // Published through B, delivered to A's client through Redis.
    const producer = startProducer(postOrderEvent(stack, b, 'gk'));
    cleanups.push(() => producer.stop());
    await until(() => app.seen.length >= 30, 15_000, 'live events through A');
    await killChild(a.child, 'SIGKILL');
    await until(() => app.connects.length === 2, 10_000, 'the reconnect');
    const reconnectedAt = Date.now();
    expect(app.connects[1]).toBe(urlB);
    await until(() => app.liveSince(reconnectedAt) >= 30, 10_000, 'live events through B');
    await producer.stop();
    await until(() => producer.accepted.every(app.has), 15_000, 'every accepted event').catch(
      () => undefined,
    );

    const s = summarize(app.seen, producer.accepted);
    console.log(
      `client library, gateway SIGKILL (A -> B): ${line(s, app.client)}; disconnects ${JSON.stringify(app.disconnects)}`,
    );
    expect(producer.refusals).toEqual([]);
    expect(app.seen.map((e) => e.id)).toEqual(producer.accepted);
    expect(s).toMatchObject({
      duplicates: 0,
      missing: [],
      extra: [],
      outOfRoomOrder: 0,
      outOfAcceptOrder: 0,
    });
    expect(s.recovered).toBeGreaterThan(0); // there was a gap, and the re-join replayed it
    expect(app.incomplete).toEqual([]);
  }, 90_000);

  it('network drop of 3 s: the library reconnects once the network is back, every event once in order', async () => {
    const stack = newStack();
    const gw = await stack.gateway();
    await stack.worker();
    // The client reaches the gateway through a TCP proxy that plays the network (see TcpProxy).
    const proxy = await TcpProxy.start(gw.port);
    cleanups.push(() => proxy.close());
    const app = await orderApp(
      { url: proxy.url, token: () => stack.token('ops', ['admin']), socket: reconnect(100) },
      'nd',
    );
    cleanups.push(() => app.client.close());

    const producer = startProducer(async (n) =>
      gw.runtime.events.emit('order_status_changed', {
        orderId: 'nd',
        status: 'preparing',
        note: String(n),
      }),
    );
    cleanups.push(() => producer.stop());
    await until(() => app.seen.length >= 30, 15_000, 'live events');
    proxy.cut();
    await until(() => app.disconnects.length === 1, 5000, 'the client noticing the drop');
    const acceptedAtDrop = producer.accepted.length;
    await sleep(3000); // the outage itself: events keep being accepted, the library keeps trying
    proxy.restore();
    await until(() => app.connects.length === 2, 10_000, 'the reconnect');
    const reconnectedAt = Date.now();
    await until(
      () => app.liveSince(reconnectedAt) >= 30,
      10_000,
      'live events after the reconnect',
    );
    await producer.stop();
    await until(() => producer.accepted.every(app.has), 15_000, 'every accepted event').catch(
      () => undefined,
    );

    const s = summarize(app.seen, producer.accepted);
    console.log(
      `client library, network drop 3 s: ${line(s, app.client)}; ${producer.accepted.length - acceptedAtDrop} accepted during and after the drop, ` +
        `${proxy.refused} reconnect attempts refused by the dead link`,
    );
    expect(proxy.refused).toBeGreaterThan(0);
    expect(app.seen.map((e) => e.id)).toEqual(producer.accepted);
    expect(s).toMatchObject({
      duplicates: 0,
      missing: [],
      extra: [],
      outOfRoomOrder: 0,
      outOfAcceptOrder: 0,
    });
    expect(s.recovered).toBeGreaterThan(0);
    expect(app.incomplete).toEqual([]);
  }, 60_000);
});
