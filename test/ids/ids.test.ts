import { newEventId } from '../../src/ids';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event ids', () => {
  it('are UUIDv7, unique and in creation order across many refills of the random pool', () => {
    // 5,000 ids: about 20 fills of the 4 KiB pool, most of them within one millisecond.
    const ids = Array.from({ length: 5000 }, () => newEventId());
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The random tail (after the timestamp, version and sequence) never repeats either.
    const tails = ids.map((id) => id.slice(19));
    expect(new Set(tails).size).toBe(ids.length);
  });

  it('keep a timestamp of their millisecond', () => {
    const now = Date.now() + 60_000;
    const id = newEventId(now);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });
});
