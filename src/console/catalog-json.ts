import { describeEvents, type EventDescription } from '../catalog/describe';
import { ROOM_KINDS } from '../client/rooms';

/** What `GET /console/catalog.json` answers: the catalog's events and each namespace's joinable rooms. */
export interface ConsoleCatalog {
  events: readonly EventDescription[];
  /** Per namespace, per room kind: the join/leave actions and the payload field of the id. */
  namespaces: typeof ROOM_KINDS;
}

export function consoleCatalog(): ConsoleCatalog {
  return { events: describeEvents(), namespaces: ROOM_KINDS };
}
