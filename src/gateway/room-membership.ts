import type { RoomMembership } from '../domain/chats';
import { GatewayError } from '../errors';
import { logger } from '../logger';
import type { GatewayServer } from './socket-types';

const log = logger('gateway');

/**
 * RoomMembership over the Socket.IO adapter: fetchSockets asks every gateway for the room's
 * sockets (with their `data`, where the handshake put the user), and each one to remove is told to
 * leave on whatever gateway holds it. A gateway that does not answer within the adapter's request
 * timeout makes the change fail `unavailable` (the member list is written; PUT it again).
 */
export function adapterMembership(io: () => GatewayServer): RoomMembership {
  return {
    async removeAllBut(ns, room, keep) {
      let sockets;
      try {
        sockets = await io().of(ns).in(room).fetchSockets();
      } catch (err) {
        throw new GatewayError(
          'unavailable',
          `could not reach every gateway to update ${room}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      let removed = 0;
      for (const socket of sockets) {
        if (keep(socket.data.user?.anonymous ? undefined : socket.data.user?.id)) continue;
        socket.leave(room);
        removed++;
      }
      if (removed > 0)
        log.info({ ns, room, removed }, 'removed sockets of users not in the new member list');
      return removed;
    },
  };
}
