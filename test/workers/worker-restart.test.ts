import { Stack, waitForOutput } from '../helpers/stack';
import { call, until } from '../helpers/wait';

describe('worker process stopped while events are accepted', () => {
  const stack = new Stack();
  afterAll(() => stack.close());

  it('SIGTERM exits 0; events accepted meanwhile are all delivered once a new worker starts', async () => {
    const gw = await stack.gateway();
    const client = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    await call(client, 'join_order', { orderId: 'w1' });
    const seen = new Map<string, number>();
    client.on('order_status_changed', (_data: unknown, meta: { id: string }) =>
      seen.set(meta.id, (seen.get(meta.id) ?? 0) + 1),
    );

    const first = stack.spawnTs('workers/main.ts');
    await waitForOutput(first, 'worker ready');
    const warm = await gw.runtime.events.emitToOrder('order_status_changed', 'w1', {
      orderId: 'w1',
      status: 'paid',
    });
    await until(() => seen.has(warm.id), 10_000, 'first delivery');

    const exited = new Promise<number | null>((resolve) =>
      first.once('exit', (code) => resolve(code)),
    );
    first.kill('SIGTERM');
    expect(await exited).toBe(0);

    const accepted: string[] = [];
    for (let i = 0; i < 200; i++) {
      accepted.push(
        (
          await gw.runtime.events.emit('order_status_changed', {
            orderId: 'w1',
            status: 'preparing',
            note: `n${i}`,
          })
        ).id,
      );
    }
    expect((await gw.runtime.events.queue.getJobCounts('wait')).wait).toBe(200);
    expect(accepted.filter((id) => seen.has(id))).toHaveLength(0);

    const second = stack.spawnTs('workers/main.ts');
    await waitForOutput(second, 'worker ready');
    await until(() => accepted.every((id) => seen.has(id)), 15_000, 'all 200 deliveries');
    expect(accepted.map((id) => seen.get(id))).toEqual(accepted.map(() => 1));
  });
});
