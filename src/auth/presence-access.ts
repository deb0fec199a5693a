import type { Config } from '../config';
import { isAdmin, type SocketUser } from './user';

/**
 * Who may see who is online (`get_online`, `get_presence`, the `presence` room): never an anonymous
 * socket (under AUTH_MODE=anonymous a tokenless client would otherwise list the signed-in users of
 * any post room); with PRESENCE_ROLE set, only sockets with that role (admins always).
 */
export function maySeePresence(user: SocketUser, config: Pick<Config, 'PRESENCE_ROLE'>): boolean {
  if (user.anonymous) return false;
  return config.PRESENCE_ROLE === '' || isAdmin(user) || user.roles.includes(config.PRESENCE_ROLE);
}

/** The refusal text of a presence call by a socket that may not see presence. */
export function presenceRefusal(user: SocketUser, config: Pick<Config, 'PRESENCE_ROLE'>): string {
  return user.anonymous
    ? 'sign in to see who is online'
    : `seeing who is online needs the role ${config.PRESENCE_ROLE}`;
}
