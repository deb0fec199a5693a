import { DeliveryBatcher } from '../../src/events/delivery-batcher';
import type { Envelope } from '../../src/wire/envelope';

const envelope = (id: string): Envelope => ({
  v: 1,
  id,
  event: 'order_status_changed',
  ns: '/orders',
  room: 'order:1',
  data: { orderId: '1', status: 'paid' },
  ts: 1,
});

describe('delivery batcher', () => {
  it('moves on past an add that never settles (a command parked during a failover), after sendTimeoutMs', async () => {
    const stored: string[][] = [];
    let calls = 0;
    const batcher = new DeliveryBatcher(
      (events) => {
        calls += 1;
        // The first add hangs for ever, as a command parked by a cluster client can.
        if (calls === 1) return new Promise<never>(() => undefined);
        stored.push(events.map((e) => e.id));
        return Promise.resolve();
      },
      { lingerMs: 0, maxEvents: 500, maxBytes: 1_000_000, sendTimeoutMs: 200 },
    );
    const first = batcher.add(envelope('a'), 10);
    await expect(first).rejects.toThrow('delivery batch not stored within 200 ms');
    // The next events are sent, not held behind the hung add.
    await batcher.add(envelope('b'), 10);
    await batcher.add(envelope('c'), 10);
    expect(stored.flat()).toEqual(['b', 'c']);
  });
});
