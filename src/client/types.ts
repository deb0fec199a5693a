/**
 * The library's public types, derived from the catalog and the namespace modules (type imports
 * only: nothing of the server is loaded at runtime).
 */
import type { ManagerOptions } from 'socket.io-client';
import type { EventMeta, ServerEventsOf } from './socket-types';
import type { Namespace } from '../catalog/namespaces';
import type { ClientActionsOf } from './contract';
import type { RoomOf } from './rooms';

export type { Namespace, EventMeta, RoomOf };

/** Every event a client of NS can receive: catalog events, relayed ones (`typing`), system ones. */
export type EventNameOf<NS extends Namespace> = keyof ServerEventsOf<NS> & string;
export type HandlerOf<NS extends Namespace, E extends EventNameOf<NS>> = ServerEventsOf<NS>[E];

/** Actions a client of NS can call, their payload and the data of a successful ack. */
export type ActionNameOf<NS extends Namespace> = keyof ClientActionsOf<NS> & string;
export type PayloadOfAction<NS extends Namespace, A extends ActionNameOf<NS>> = Parameters<
  ClientActionsOf<NS>[A]
>[0];
export type ResultOfAction<NS extends Namespace, A extends ActionNameOf<NS>> = Extract<
  Parameters<Parameters<ClientActionsOf<NS>[A]>[1]>[0],
  { ok: true }
>['data'];

/** What a join resolves with: the ack's data, e.g. `{ room: 'order:42', offset: '1763889503572-0' }`. */
export interface JoinResult {
  room: string;
  /**
   * The room's position when the join completed (its last history entry, `'0-0'` when it has
   * none): the library re-joins from it (or from a later event's offset) after a reconnect.
   */
  offset: string;
  /** Events sent first because of `rewind`. */
  rewound?: number;
  /** Events replayed by a join with `since` (the library adds `since` when it knows an offset). */
  recovered?: number;
  /** The history could not cover the gap: `onRecoveryIncomplete` was called too. */
  incomplete?: true;
}

/** How a room is joined the first time (re-joins after a reconnect always start from its offset). */
export interface JoinOptions {
  /** Send the room's last n events first (0-100), flagged `meta.rewound`. */
  rewind?: number;
  /**
   * Where the application's state of the room stands: typically a backend call that reads
   * `GET /api/rooms/position` and then its snapshot, and answers that position. The join replays
   * what followed it, so nothing between the snapshot and the join is lost or applied twice. Asked
   * again whenever the gateway can no longer replay from the room's position (instead of
   * `onRecoveryIncomplete`): reload the snapshot there and answer its new position.
   */
  getState?: () => Promise<string>;
}

/** What the gateway sends before it disconnects a socket on purpose (`disconnect_reason`). */
export interface ServerDisconnectReason {
  code?: string;
  reason?: string;
  message?: string;
}

export interface ClientOptions {
  /**
   * Gateway base URL(s), without the namespace. One URL; a list, tried in turn: the first connect
   * uses the first URL and every reconnect attempt moves on to the next one (round robin), so a dead
   * gateway costs one failed attempt per lap; or a function of the attempt number (0 for the first
   * connect, then 1, 2, ... across every reconnect attempt of the client's life).
   */
  url: string | readonly string[] | ((attempt: number) => string);
  /**
   * The handshake JWT, or a function that returns a fresh one: called on every connect and
   * reconnect (one call shared by the namespaces connecting at that moment). If it throws, the
   * connect goes without a token, is refused, and is tried again after a delay.
   */
  token?: string | (() => string | Promise<string>);
  /** Namespaces to connect to right away; others connect on first use. */
  namespaces?: readonly Namespace[];
  /** Event ids remembered per room for de-duplication (default 2,000; memory grows with it, not with time). */
  dedupeWindow?: number;
  /** How long an action waits for its ack before it rejects (`call`) or is sent again (joins). Default 10 s. */
  ackTimeoutMs?: number;
  /** Passed to socket.io-client's Manager: reconnection delays, path, transports (default websocket only). */
  socket?: Partial<ManagerOptions>;

  /**
   * A re-join could not replay everything missed: the room's history no longer reaches back (the
   * gateway's `recovery_incomplete`), or the room had no event yet to recover from. Refetch the
   * room's state (e.g. over HTTP); the room is joined and live events keep coming.
   */
  onRecoveryIncomplete?: (room: string, reason: string, ns: Namespace) => void;
  /** The gateway closed this connection because the client did not read fast enough (it reconnects and recovers). */
  onSlowConsumer?: (ns: Namespace) => void;
  /**
   * Every disconnect: socket.io-client's reason and details (for a closed websocket,
   * `details.context` is the CloseEvent with its `code` and `reason`), and what the gateway said
   * first in `disconnect_reason`, if anything. The library reconnects by itself unless closed.
   */
  onDisconnect?: (
    ns: Namespace,
    reason: string,
    details: unknown,
    server?: ServerDisconnectReason,
  ) => void;
  /** Every (re)connect of a namespace, with the URL it reached. */
  onConnect?: (ns: Namespace, url: string) => void;
  /** Connect errors (retried), token errors, and re-joins the gateway refused (the room is dropped). */
  onError?: (ns: Namespace, error: Error, room?: string) => void;
}

export interface ClientStats {
  /** Events with a `meta` (catalog events) handed to the application. */
  delivered: number;
  /** Events dropped as repeats (same id, or an offset at or before the room's last one). */
  duplicates: number;
  /** Successful connects, all namespaces (the first ones included). */
  connects: number;
  /** Tokens replaced during a connection (`refresh_token`), all namespaces. */
  refreshes: number;
}
