/** What `jsonSize` found: the JSON's size in bytes, or why it stopped. */
export type JsonSize =
  { ok: true; bytes: number } | { ok: false; reason: 'too_deep' | 'too_large'; bytes: number };

/**
 * The UTF-8 byte length of `JSON.stringify(value)` for a value that came from JSON.parse, without
 * recursion: an explicit stack, so a body nested 100,000 deep cannot overflow the call stack (as
 * JSON.stringify and every recursive walk do), and it stops as soon as the value is deeper than
 * `maxDepth` or larger than `maxBytes`. Cost: one visit per value, no string of the whole.
 */
export function jsonSize(value: unknown, maxDepth: number, maxBytes: number): JsonSize {
  let bytes = 0;
  // Each frame: a value to measure at a depth, or a fixed number of bytes (brackets, commas).
  const stack: Array<[unknown, number] | number> = [[value, 0]];
  while (stack.length > 0) {
    const frame = stack.pop() as [unknown, number] | number;
    if (typeof frame === 'number') {
      bytes += frame;
    } else {
      const [v, depth] = frame;
      if (depth > maxDepth) return { ok: false, reason: 'too_deep', bytes };
      if (v === null || typeof v === 'boolean' || typeof v === 'number')
        bytes += JSON.stringify(v).length;
      else if (typeof v === 'string') bytes += Buffer.byteLength(JSON.stringify(v));
      else if (Array.isArray(v)) {
        bytes += 2 + Math.max(0, v.length - 1); // [ ] and commas
        for (let i = v.length - 1; i >= 0; i--)
          stack.push([v[i] === undefined ? null : v[i], depth + 1]);
      } else if (typeof v === 'object') {
        const entries = Object.entries(v).filter(([, x]) => x !== undefined);
        bytes += 2 + Math.max(0, entries.length - 1); // { } and commas
        for (let i = entries.length - 1; i >= 0; i--) {
          const [key, x] = entries[i] as [string, unknown];
          stack.push([x, depth + 1], Buffer.byteLength(JSON.stringify(key)) + 1); // "key":
        }
      }
    }
    if (bytes > maxBytes) return { ok: false, reason: 'too_large', bytes };
  }
  return { ok: true, bytes };
}
