/** Who is behind a socket: set once by the handshake check, read by actions and authorizers. */
export interface SocketUser {
  /** The JWT `sub`; for anonymous sockets `anon:<socket id>` (never a real user's id). */
  readonly id: string;
  readonly roles: readonly string[];
  readonly anonymous: boolean;
}

export const ADMIN_ROLE = 'admin';

export function isAdmin(user: SocketUser): boolean {
  return !user.anonymous && user.roles.includes(ADMIN_ROLE);
}

/** What Switchboard keeps on `socket.data` (the gateway's sockets are typed with it). */
export interface SocketData {
  user?: SocketUser;
  /** The handshake's (or the last `refresh_token`'s) token `exp`, in ms; none for anonymous sockets. */
  tokenExpiresAt?: number;
}

/** The user the handshake put on `socket.data.user`; sockets past `nsp.use` always have one. */
export function userOf(socket: { readonly id: string; readonly data: SocketData }): SocketUser {
  return socket.data.user ?? { id: `anon:${socket.id}`, roles: [], anonymous: true };
}

/** Set by the handshake check (src/gateway/connection-auth.ts), and again by `refresh_token`. */
export function setUserOf(socket: { readonly data: SocketData }, user: SocketUser): void {
  socket.data.user = user;
}
