import fc from 'fast-check';

/** Nested arrays or objects `depth` levels deep, built without recursion. */
export function nested(depth: number, asObject: boolean): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

const protoKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
const fieldNames = [
  'postId',
  'chatId',
  'orderId',
  'userId',
  'content',
  'room',
  'event',
  'data',
  'target',
  'title',
  'body',
  'status',
  'text',
  'userIds',
  ...protoKeys,
];

/** Prototype-pollution attempts as JSON.parse produces them (own `__proto__` keys). */
const pollution = fc.constantFrom(
  JSON.parse('{"__proto__":{"polluted":"yes"}}'),
  JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}'),
  JSON.parse('{"postId":"1","__proto__":{"isAdmin":true}}'),
  JSON.parse('{"data":{"__proto__":{"polluted":"yes"}},"event":"notification"}'),
);

/** One hostile value: wrong types, huge strings, deep nesting, binary, odd numbers, pollution keys. */
export const hostileLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    maxDepth: 3,
    withBigInt: false,
    withTypedArray: true,
    withNullPrototype: true,
    withObjectString: true,
  }),
  fc.string({ maxLength: 300, unit: 'binary' }),
  // Over MAX_PAYLOAD_BYTES (64 KiB) yet, even three in one payload, under the transport's hard cap (4x).
  fc.integer({ min: 65_000, max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 50, max: 800 }).chain((d) => fc.boolean().map((o) => nested(d, o))),
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  fc.constantFrom(
    null,
    undefined,
    Number.NaN,
    Infinity,
    -Infinity,
    -0,
    true,
    false,
    0,
    -1,
    1e308,
    '',
    [],
    {},
    '../../etc/passwd',
    '<script>',
    'a'.repeat(129),
    'post:1#x',
    '{sb}',
  ),
  pollution,
);

/** A payload: a hostile value, or an object whose likely field names hold hostile values. */
export const hostilePayload: fc.Arbitrary<unknown> = fc.oneof(
  hostileLeaf,
  fc.dictionary(fc.constantFrom(...fieldNames), hostileLeaf, { maxKeys: 3 }),
  fc.dictionary(fc.string({ maxLength: 20 }), hostileLeaf, { maxKeys: 3 }),
);

/** What goes into a URL path segment: anything, percent-encoded or raw. */
export const hostileId: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom(
    '%E0%A4%A',
    '%',
    '..',
    '%2e%2e%2f',
    'a'.repeat(300),
    '__proto__',
    'constructor',
    '%00',
    '1',
  ),
);

/** A raw HTTP body: usually JSON of a hostile payload, sometimes broken JSON or another type. */
export const hostileBody: fc.Arbitrary<{ body: string; type: string }> = fc.oneof(
  {
    weight: 4,
    arbitrary: hostilePayload.map((p) => ({ body: safeJson(p), type: 'application/json' })),
  },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 200 }).map((body) => ({ body, type: 'application/json' })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.string({ maxLength: 100 }),
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-16',
          'multipart/form-data',
        ),
      )
      .map(([body, type]) => ({ body, type })),
  },
);

/** JSON.stringify as it behaves: undefined for undefined, a function or a Symbol (its lib type says string). */
const stringify = (v: unknown): string | undefined => JSON.stringify(v);

/** JSON of anything fast-check makes (Symbols, -0 and cycles aside: fast-check makes no cycles). */
export function safeJson(v: unknown): string {
  try {
    return stringify(v) ?? 'null';
  } catch {
    return '{"unserializable":true}';
  }
}

/** Whether a value holds binary (socket.io sends it as attachments, JSON would not see it). */
export function hasBinary(v: unknown): boolean {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (x instanceof ArrayBuffer || ArrayBuffer.isView(x)) return true;
    if (x !== null && typeof x === 'object') stack.push(...(Object.values(x) as unknown[]));
  }
  return false;
}
