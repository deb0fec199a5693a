import type { RedisClient } from '../redis/connections';
import type { EventMeta } from '../catalog';
import { decodeStoredMessage } from '../delivery/adapter-message';
import type { Keys } from '../redis/keys';

export interface ReplayedEvent {
  event: string;
  data: unknown;
  meta: EventMeta;
}

/** Either every event after the offset, in order, or the news that some may be gone. */
export type Catchup = { complete: true; events: ReplayedEvent[] } | { complete: false; reason: string };

/** Most events one re-join replays; a longer gap is reported incomplete (refetch instead). */
const MAX_REPLAY = 10_000;

function fieldsOf(flat: Buffer[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1] as Buffer);
  return map;
}

/**
 * One history entry back as the event it stored: the published message's msgpack head and tail
 * around the offset (`h`, `t`), or, for entries written before batches, its JSON (`e`, `p`).
 */
function replayed(id: string, fields: Map<string, Buffer>): ReplayedEvent {
  const head = fields.get('h');
  const tail = fields.get('t');
  if (head && tail) {
    const { event, data, meta } = decodeStoredMessage(head, tail, id);
    return { event, data, meta: { ...meta, offset: id, recovered: true } };
  }
  const [data, meta] = JSON.parse(String(fields.get('p'))) as [unknown, EventMeta];
  return { event: String(fields.get('e')), data, meta: { ...meta, offset: id, recovered: true } };
}

/** Reads a room's history (written by the worker's BatchEmitter) for recovery on reconnect. */
export class RoomHistory {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /**
   * The events of `room` after `offset`, in room order. The history is trimmed oldest first, so
   * if the entry at `offset` itself is still there, nothing after it is missing. If it is gone
   * (trimmed, expired, or an offset this room never had), the catch-up is incomplete.
   */
  async since(ns: string, room: string, offset: string): Promise<Catchup> {
    const raw = (await this.redis.xrangeBuffer(this.keys.history(ns, room), offset, '+', 'COUNT', MAX_REPLAY + 2)) as Array<[Buffer, Buffer[]]>;
    const entries = raw.map(([id, flat]) => [String(id), flat] as const);
    if (entries[0]?.[0] !== offset) return { complete: false, reason: 'the history no longer reaches back to this offset' };
    if (entries.length > MAX_REPLAY + 1) return { complete: false, reason: `more than ${MAX_REPLAY} events missed` };
    return {
      complete: true,
      events: entries.slice(1).map(([id, flat]) => replayed(id, fieldsOf(flat))),
    };
  }
}
