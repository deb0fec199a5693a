import type { RedisClient } from '../redis/connections';
import type { EventMeta } from '../catalog';
import { decodeStoredMessage } from '../wire/adapter-message';
import type { Keys } from '../redis/keys';

export interface ReplayedEvent {
  event: string;
  data: unknown;
  meta: EventMeta;
}

/** One page of a room's events after an offset, in order, and where the next page starts. */
export interface HistoryPage {
  events: ReplayedEvent[];
  /** Stored bytes of the page's entries (what reading and sending it costs). */
  bytes: number;
  /** The last entry's id: the next page starts after it; undefined when this page is the last. */
  next?: string;
}

/** Either the first page of the events after the offset, or the news that some may be gone. */
export type Catchup = { complete: true; page: HistoryPage } | { complete: false; reason: string };

function fieldsOf(flat: Buffer[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1] as Buffer);
  return map;
}

/**
 * One history entry back as the event it stored: the published message's msgpack head and tail
 * around the offset (`h`, `t`), or, for entries written before batches, its JSON (`e`, `p`).
 */
function replayed(id: string, fields: Map<string, Buffer>, why: Why): ReplayedEvent {
  const head = fields.get('h');
  const tail = fields.get('t');
  if (head && tail) {
    const { event, data, meta } = decodeStoredMessage(head, tail, id);
    return { event, data, meta: { ...meta, offset: id, [why]: true } };
  }
  const [data, meta] = JSON.parse(String(fields.get('p'))) as [unknown, EventMeta];
  return { event: String(fields.get('e')), data, meta: { ...meta, offset: id, [why]: true } };
}

/** The flag an event sent from the history carries: replayed after `since`, or sent by `rewind`. */
type Why = 'recovered' | 'rewound';

/** The position of a room that never had an event (what a join acks for it). */
export const NO_OFFSET = '0-0';

/** Reads a room's history (written by the worker's BatchEmitter) for recovery on reconnect. */
export class RoomHistory {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /**
   * The first page (at most `count` entries) of `room`'s events after `offset`, in room order. The
   * history is trimmed oldest first, so if the entry at `offset` itself is still there, nothing
   * after it is missing. If it is gone (trimmed, expired, lost with Redis's data, or an offset this
   * room never had), the catch-up is incomplete.
   */
  async since(ns: string, room: string, offset: string, count: number): Promise<Catchup> {
    if (offset === NO_OFFSET) return this.sinceStart(ns, room, count);
    const entries = await this.read(ns, room, offset, count + 1);
    if (entries[0]?.[0] !== offset)
      return { complete: false, reason: 'the history no longer reaches back to this offset' };
    return { complete: true, page: this.pageOf(entries.slice(1), entries.length === count + 1) };
  }

  /**
   * From a room's start (`since: '0-0'`, the offset a join acks in a room without events): complete
   * while the stream never dropped an entry, since then every event the room had is there. A room
   * without a stream has nothing to send.
   */
  private async sinceStart(ns: string, room: string, count: number): Promise<Catchup> {
    const key = this.keys.history(ns, room);
    const [info, entries] = await Promise.all([
      this.redis.xinfo('STREAM', key).catch((err: unknown) => {
        if (err instanceof Error && /no such key/i.test(err.message)) return undefined;
        throw err;
      }),
      this.read(ns, room, '-', count),
    ]);
    if (info !== undefined && droppedAny(info as unknown[]))
      return { complete: false, reason: "the history no longer reaches back to the room's start" };
    return { complete: true, page: this.pageOf(entries, entries.length === count) };
  }

  /** The room's position now: its last entry's id, or `'0-0'` when it has none. */
  async latest(ns: string, room: string): Promise<string> {
    const last = (await this.redis.xrevrange(
      this.keys.history(ns, room),
      '+',
      '-',
      'COUNT',
      1,
    )) as Array<[string, string[]]>;
    return last[0]?.[0] ?? NO_OFFSET;
  }

  /** The room's last `count` events, oldest first, flagged `rewound` (a join with `rewind`). */
  async last(ns: string, room: string, count: number): Promise<HistoryPage> {
    const raw = (await this.redis.xrevrangeBuffer(
      this.keys.history(ns, room),
      '+',
      '-',
      'COUNT',
      count,
    )) as Array<[Buffer, Buffer[]]>;
    const entries = raw.reverse().map(([id, flat]) => [String(id), flat] as const);
    return this.pageOf(entries, false, 'rewound');
  }

  /** The page after `after` (an id a previous page returned as `next`). */
  async after(ns: string, room: string, after: string, count: number): Promise<HistoryPage> {
    const entries = await this.read(ns, room, `(${after}`, count);
    return this.pageOf(entries, entries.length === count);
  }

  private async read(
    ns: string,
    room: string,
    from: string,
    count: number,
  ): Promise<Array<readonly [string, Buffer[]]>> {
    const raw = (await this.redis.xrangeBuffer(
      this.keys.history(ns, room),
      from,
      '+',
      'COUNT',
      count,
    )) as Array<[Buffer, Buffer[]]>;
    return raw.map(([id, flat]) => [String(id), flat] as const);
  }

  private pageOf(
    entries: Array<readonly [string, Buffer[]]>,
    full: boolean,
    why: Why = 'recovered',
  ): HistoryPage {
    let bytes = 0;
    const events = entries.map(([id, flat]) => {
      for (const b of flat) bytes += b.length;
      return replayed(id, fieldsOf(flat), why);
    });
    const last = entries.at(-1)?.[0];
    return full && last !== undefined ? { events, bytes, next: last } : { events, bytes };
  }
}

/**
 * Whether a stream ever lost an entry, from its XINFO STREAM reply (a flat list of names and
 * values): `entries-added` counts every entry ever added, `length` those still there. (Its
 * `max-deleted-entry-id` does not move on XTRIM, the way a history is capped.)
 */
function droppedAny(info: unknown[]): boolean {
  const field = (name: string) => Number(info[info.indexOf(name) + 1]);
  return field('entries-added') > field('length');
}
