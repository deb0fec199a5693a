import { Packr } from 'msgpackr';
import { decode } from 'notepack.io';
import type { EventMeta, Namespace } from '../catalog';

/**
 * The Socket.IO Redis adapter's wire format, which workers publish and gateways consume:
 * msgpack of `[uid, packet, opts]` on channel `<key>#<ns>#<room>#`.
 */

/** socket.io-parser's packet type for an event. */
const EVENT_PACKET = 2;
/** Sender id in adapter messages; gateways only skip messages carrying their own random uid. */
const PUBLISHER_UID = 'switchboard-worker';
/**
 * Plain msgpack (no records or extensions), which the adapter's notepack.io decoder reads; msgpackr
 * encodes it in about 60% of notepack's time (measured in this repo's worker profile).
 */
const packr = new Packr({ useRecords: false, variableMapSize: true });
/** Stands in for meta.offset while encoding; the emit script splices the real offset in its place. */
const OFFSET_MARK = '\u0001sb-offset\u0001';
export const OFFSET_MARK_BYTES = packr.pack(OFFSET_MARK);

/**
 * `pubsub`: the Redis adapter's `[uid, packet, opts]`. `sharded`: the sharded adapter's (socket.io's
 * ClusterAdapter) `{ uid, nsp, type: BROADCAST, data: { packet, opts } }`; it reads msgpack as
 * well as JSON (anything not starting with `{`).
 */
export type AdapterFormat = 'pubsub' | 'sharded';

/** socket.io-adapter's ClusterAdapter message type of a broadcast. */
const CLUSTER_BROADCAST = 3;

export function encodeAdapterMessage(
  format: AdapterFormat,
  ns: Namespace,
  event: string,
  data: unknown,
  meta: EventMeta,
): Buffer {
  const packet = { type: EVENT_PACKET, data: [event, data, meta], nsp: ns };
  const opts = { rooms: [meta.room], except: [], flags: {} };
  if (format === 'sharded')
    return packr.pack({
      uid: PUBLISHER_UID,
      nsp: ns,
      type: CLUSTER_BROADCAST,
      data: { packet, opts },
    });
  return packr.pack([PUBLISHER_UID, packet, opts]);
}

/** meta with the offset placeholder as its last field (where the emit script writes the offset). */
export function withOffsetMark(meta: EventMeta): EventMeta {
  return { ...meta, offset: OFFSET_MARK };
}

/** msgpack string header of a short string (what the emit script writes before the offset). */
function stringHeader(length: number): Buffer {
  return length < 32 ? Buffer.from([0xa0 + length]) : Buffer.from([0xd9, length]);
}

/** Rebuilds the published message from a history entry's head, tail and offset, and reads it back. */
export function decodeStoredMessage(
  head: Buffer,
  tail: Buffer,
  offset: string,
): { event: string; data: unknown; meta: EventMeta } {
  const offsetBytes = Buffer.from(offset);
  const message = Buffer.concat([head, stringHeader(offsetBytes.length), offsetBytes, tail]);
  const decoded = decode(message) as
    | [string, { data: [string, unknown, EventMeta] }]
    | { data: { packet: { data: [string, unknown, EventMeta] } } };
  const packet = Array.isArray(decoded) ? decoded[1] : decoded.data.packet;
  const [event, data, meta] = packet.data;
  return { event, data, meta };
}
