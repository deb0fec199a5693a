import type { Namespace } from './namespaces';

/** The second argument of every server-initiated emit. */
export interface EventMeta {
  /** Unique, stable across retries: de-duplicate on it. */
  id: string;
  /** Milliseconds since epoch when the event was accepted (or, if coalesced, the window flushed). */
  ts: number;
  ns: Namespace;
  room: string;
  /** Throttled events only: how many accepted events this emit stands for. */
  coalesced?: number;
  /**
   * Position in the room's history (a Redis stream id, ordered within the room). Present when the
   * event keeps history; pass the last one seen as `since` when re-joining to recover missed events.
   */
  offset?: string;
  /** Set on events replayed by recovery (sent before live ones). */
  recovered?: true;
  /** Set on the room's last events sent by a join with `rewind` (before live ones). */
  rewound?: true;
}
