import type { Socket } from 'socket.io-client';
import type { EventMeta } from '../../src/catalog';
import { cmpOffset } from '../helpers/fault';

/**
 * The producer names each item `<room>#<seq>`; `<room>#end` closes a room. Room order is checked on
 * meta.offset, not on the sequence: with several producers and workers, two batches of one room may
 * be emitted in either order (docs/events.md, What a client receives).
 */
export const nameOf = (room: string, seq: number) => `${room}#${seq}`;
export const endOf = (room: string) => `${room}#end`;

export interface Figures {
  /** Items received that were meant for the socket, each counted once. */
  delivered: number;
  /** Items dropped by de-duplication on meta.id (at-least-once repeats). */
  duplicates: number;
  /** Emits whose meta.offset was not after the previous one of the same room. */
  outOfOrder: number;
  /** Items meant for the socket that never came. */
  lost: number;
  /** Items of a room the socket is not in, or not published to that room. */
  extra: number;
  /** An item received again under another meta.id: de-duplication could not catch it. */
  twice: number;
}

export const emptyFigures = (): Figures => ({
  delivered: 0,
  duplicates: 0,
  outOfOrder: 0,
  lost: 0,
  extra: 0,
  twice: 0,
});

/**
 * What one socket received: `expected` maps each room it should hear to the item names published
 * there. It de-duplicates by meta.id first, as a client would, then checks room order and names.
 * `complete` resolves once every expected item came; `ended` once every room's end item came
 * (everything emitted before it in that room has arrived by then).
 */
export class Inbox {
  private readonly ids = new Set<string>();
  private readonly got = new Set<string>();
  private readonly lastOffset = new Map<string, string>();
  private readonly endedRooms = new Set<string>();
  private readonly counts = emptyFigures();
  private readonly total: number;
  private onComplete = () => {};
  private onEnded = () => {};
  readonly complete = new Promise<void>((resolve) => (this.onComplete = resolve));
  readonly ended = new Promise<void>((resolve) => (this.onEnded = resolve));

  constructor(readonly expected: ReadonlyMap<string, ReadonlySet<string>>) {
    this.total = [...expected.values()].reduce((sum, names) => sum + names.size, 0);
  }

  /** Records `event` on the socket; `names(data)` lists the item names an emit carries. */
  listen(socket: Socket, event: string, names: (data: unknown) => string[]): this {
    socket.on(event, (data: unknown, meta: EventMeta) => this.receive(meta, names(data)));
    return this;
  }

  private receive(meta: EventMeta, names: string[]): void {
    const want = this.expected.get(meta.room);
    if (!want) {
      this.counts.extra += names.length;
      return;
    }
    if (this.ids.has(meta.id)) {
      this.counts.duplicates += names.length;
      return;
    }
    this.ids.add(meta.id);
    const last = this.lastOffset.get(meta.room);
    if (meta.offset === undefined || (last !== undefined && cmpOffset(meta.offset, last) <= 0))
      this.counts.outOfOrder++;
    else this.lastOffset.set(meta.room, meta.offset);
    for (const name of names) this.item(meta.room, want, name);
    if (this.got.size === this.total) this.onComplete();
    if (this.endedRooms.size === this.expected.size) this.onEnded();
  }

  private item(room: string, want: ReadonlySet<string>, name: string): void {
    if (name === endOf(room)) {
      this.endedRooms.add(room);
    } else if (!want.has(name)) {
      this.counts.extra++;
    } else if (this.got.has(name)) {
      this.counts.twice++;
    } else {
      this.got.add(name);
      this.counts.delivered++;
    }
  }

  get figures(): Figures {
    return { ...this.counts, lost: this.total - this.got.size };
  }

  get expectedItems(): number {
    return this.total;
  }
}

/** Adds up the figures of many inboxes. */
export function sumFigures(inboxes: Inbox[]): Figures {
  const sum = emptyFigures();
  for (const inbox of inboxes) {
    const figures = inbox.figures;
    for (const key of Object.keys(figures) as Array<keyof Figures>) sum[key] += figures[key];
  }
  return sum;
}
