// '../catalog/index', not '../catalog': the client's ESM build appends .js to specifiers (src/client).
import type { Namespace, ServerToClientEvents } from '../catalog/index';
import type { RelayEventsOf } from './namespaces/registry';
import type { SystemEvents } from './system-events';

/**
 * Everything a client of namespace NS can receive: catalog events, relayed events (typing), system
 * events. The gateway's sockets (socket-types.ts) and the client's (src/client) are typed with it.
 */
export type ServerEventsOf<NS extends Namespace> = ServerToClientEvents<NS> &
  RelayEventsOf<NS> &
  SystemEvents;
