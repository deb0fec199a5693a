/**
 * Whether a decoded message is larger than `limit` bytes (roughly its JSON size; binary counts
 * its byte length). Walks iteratively with an early exit, so a deeply nested or huge payload
 * costs at most `limit` worth of work and never overflows the stack.
 */
export function exceedsSize(value: unknown, limit: number): boolean {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') total += v.length + 2;
    else if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) total += v.byteLength;
    else if (Array.isArray(v)) {
      total += 2 + v.length;
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      total += 2;
      for (const [key, item] of Object.entries(v)) {
        total += key.length + 4;
        stack.push(item);
      }
    } else total += 8;
    if (total > limit) return true;
  }
  return false;
}
