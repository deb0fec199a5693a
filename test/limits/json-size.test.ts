import fc from 'fast-check';
import { jsonSize } from '../../src/limits/json-size';
import { nested } from '../hostile/arbitraries';

describe('jsonSize: the byte length of JSON.stringify, without recursion', () => {
  it('equals Buffer.byteLength(JSON.stringify(v)) for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        expect(jsonSize(v, 100, Infinity)).toEqual({
          ok: true,
          bytes: Buffer.byteLength(JSON.stringify(v)),
        });
      }),
      { numRuns: 500 },
    );
  });

  it('counts unicode, escapes and keys as JSON.stringify writes them', () => {
    const v = { 'ключ "q"': ['é\n', '😀', '\u0001', -0, 1e21, null, true], a: { b: [] } };
    expect(jsonSize(v, 10, Infinity)).toEqual({
      ok: true,
      bytes: Buffer.byteLength(JSON.stringify(v)),
    });
  });

  it('stops at the first level past maxDepth, and past maxBytes, even 100,000 levels deep', () => {
    expect(jsonSize(nested(100_000, true), 32, 1e9)).toMatchObject({
      ok: false,
      reason: 'too_deep',
    });
    expect(jsonSize(nested(100_000, false), 32, 1e9)).toMatchObject({
      ok: false,
      reason: 'too_deep',
    });
    expect(jsonSize(nested(32, true), 32, 1e9).ok).toBe(true);
    expect(jsonSize({ s: 'x'.repeat(1000) }, 32, 100)).toMatchObject({
      ok: false,
      reason: 'too_large',
    });
  });
});
