import type { Namespace as IoNamespace, Server, Socket } from 'socket.io';
import type { SocketData } from '../auth/user';
import type { EventMeta, Namespace } from '../catalog';
import type { ServerEventsOf } from './event-maps';
import type { SystemEvents } from './system-events';

/**
 * The gateway's Socket.IO types, derived from the catalog and the namespace modules: what a
 * namespace's clients receive (its catalog events, its relays, the system events) and what the
 * gateway keeps on `socket.data`. An emit of an event a namespace does not have, or with the wrong
 * payload, does not compile. The client's types (src/client) name the same events.
 */

/** No events: gateways send each other none (serverSideEmit), and client events are not typed here (below). */
export type NoEvents = Record<string, never>;

/**
 * What clients send is not in these types: every client event reaches one catch-all listener
 * (action.ts) and is parsed by its action's schema, since a client can send anything. The actions'
 * static types (ClientActionsOf, from the same modules) are the client's; they cannot be here, as
 * the actions' own context holds these types.
 */
export type GatewayNamespace<NS extends Namespace = Namespace> = IoNamespace<
  NoEvents,
  ServerEventsOf<NS>,
  NoEvents,
  SocketData
>;
export type GatewaySocket<NS extends Namespace = Namespace> = Socket<
  NoEvents,
  ServerEventsOf<NS>,
  NoEvents,
  SocketData
>;

/** The server: the system events go to every namespace; each namespace's own come from namespaceOf. */
export type GatewayServer = Server<NoEvents, SystemEvents, NoEvents, SocketData>;

/** `io.of(name)`, typed by that namespace's events (Socket.IO types every namespace like the server). */
export function namespaceOf<NS extends Namespace>(
  io: GatewayServer,
  name: NS,
): GatewayNamespace<NS> {
  return io.of(name);
}

/**
 * A socket as the recovery replay sends through it: events read back from a room's history, each
 * a catalog event of the namespace whose data was validated when it was accepted, not re-parsed.
 */
export type ReplaySocket = Socket<
  NoEvents,
  Record<string, (data: unknown, meta: EventMeta) => void>,
  NoEvents,
  SocketData
>;
