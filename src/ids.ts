import { randomFillSync } from 'node:crypto';

/**
 * Event ids are UUIDv7: a 48-bit millisecond timestamp, then randomness. They sort by creation
 * time, fit BullMQ job ids (no ':'), and clients can use them to de-duplicate.
 * Within one process, ids made in the same millisecond still sort in creation order (a counter
 * replaces the first random bits), so a burst from one publisher stays ordered.
 */
let lastMs = 0;
let seq = 0;

/**
 * Randomness is drawn 4 KiB at a time (256 ids a fill), as Node's randomUUID does: one
 * randomBytes(16) per id was the largest single cost of a publish in the gateway's CPU profile.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

function randomBlock(): Buffer {
  if (poolOffset + 16 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // A copy: the id is written into it, and the pool is refilled under it later.
  const block = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  return block;
}

export function newEventId(now: number = Date.now()): string {
  if (now <= lastMs) {
    now = lastMs;
    seq = (seq + 1) & 0xfff;
    if (seq === 0) now = ++lastMs; // 4096 ids in one ms: borrow the next millisecond
  } else {
    lastMs = now;
    seq = 0;
  }
  const bytes = randomBlock();
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (seq >> 8); // version 7 + high bits of the sequence
  bytes[7] = seq & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f); // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A safe id or room segment: what may become part of a Redis key, a room name or a channel. */
export const SEGMENT_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** Ids that become part of a key or room name: short, printable, no spaces, braces or '#'. */
export function isSafeSegment(value: string): boolean {
  return SEGMENT_RE.test(value);
}

/** A position in a room's history (a Redis stream id, `<ms>-<seq>`): `meta.offset` and `since`. */
export const OFFSET_RE = /^\d{1,15}-\d{1,15}$/;
