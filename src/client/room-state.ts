/** Compares two `meta.offset` stream ids (`<ms>-<seq>`) numerically. */
export function compareOffsets(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

/**
 * What the client knows of one room: the newest `meta.offset` delivered (the `since` of the next
 * re-join) and the ids of the last `capacity` events delivered.
 *
 * An event is delivered once: a repeat of a remembered id is dropped, and so is an event whose
 * offset is not after the last one delivered (the gateway sends a room's events in offset order,
 * so such an event can only be a repeat: a replayed event also held live, or one sent again after
 * a reconnect). The offset test covers events of rooms with history beyond the id window; the id
 * window covers events without an offset (`history: false`). Memory: at most `capacity` ids per room.
 */
export class RoomState {
  lastOffset: string | undefined;
  /** Joined by the application (re-joined after every reconnect), rather than only seen. */
  tracked = false;
  /** The application's position source (`join(..., { getState })`): asked when there is none. */
  getState: (() => Promise<string>) | undefined;
  /** The room's last events asked for by the first join (`join(..., { rewind })`). */
  rewind: number | undefined;
  /** Set while getState is being asked, so a re-join waits for its answer. */
  loadingState = false;
  private readonly ids = new Set<string>();
  private readonly ring: string[] = [];
  private next = 0;

  constructor(
    readonly room: string,
    private readonly capacity: number,
  ) {}

  /** True the first time an event is seen (and remembers it); false for a repeat. */
  admit(meta: { id: string; offset?: string }): boolean {
    if (this.ids.has(meta.id)) return false;
    if (
      meta.offset !== undefined &&
      this.lastOffset !== undefined &&
      compareOffsets(meta.offset, this.lastOffset) <= 0
    )
      return false;
    if (meta.offset !== undefined) this.lastOffset = meta.offset;
    this.remember(meta.id);
    return true;
  }

  private remember(id: string): void {
    if (this.ring.length < this.capacity) this.ring.push(id);
    else {
      this.ids.delete(this.ring[this.next] as string);
      this.ring[this.next] = id;
      this.next = (this.next + 1) % this.capacity;
    }
    this.ids.add(id);
  }

  /** How many ids are remembered (never more than the capacity). */
  get remembered(): number {
    return this.ids.size;
  }
}
