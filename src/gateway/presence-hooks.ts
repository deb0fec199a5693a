import { userOf } from '../auth/user';
import type { Presence } from '../presence/presence';
import type { GatewayNamespace, GatewaySocket } from './socket-types';

/** `/social` -> `social`: how presence keys name a namespace. */
export function presenceNs(name: string): string {
  return name.replace(/^\//, '');
}

/**
 * Feeds a namespace's sockets into presence: each authenticated socket counts toward its user
 * being online, and every room it is in (joined by an action or automatically) toward that
 * room's presence. Uses the local adapter's join/leave events, which also fire for every room
 * when a socket disconnects. Anonymous sockets are not anyone's presence.
 */
export function attachPresence(nsp: GatewayNamespace, presence: Presence): void {
  const ns = presenceNs(nsp.name);
  const userIdOf = (sid: string): string | undefined => {
    const socket = nsp.sockets.get(sid);
    if (!socket) return undefined;
    const user = userOf(socket);
    return user.anonymous ? undefined : user.id;
  };
  nsp.adapter.on('join-room', (room: string, sid: string) => {
    const userId = room === sid ? undefined : userIdOf(sid);
    if (userId) presence.joined(ns, room, userId);
  });
  nsp.adapter.on('leave-room', (room: string, sid: string) => {
    const userId = room === sid ? undefined : userIdOf(sid);
    if (userId) presence.left(ns, room, userId);
  });
}

/** Counts one connected socket; undone when it disconnects. */
export function trackSocket(socket: GatewaySocket, presence: Presence): void {
  const user = userOf(socket);
  if (user.anonymous) return;
  presence.connected(user.id);
  socket.once('disconnect', () => presence.disconnected(user.id));
}
