import type { Revocations } from '../auth/revocations';
import type { TokenVerifier, VerifiedToken } from '../auth/tokens';
import { setUserOf, type SocketUser } from '../auth/user';
import type { Config } from '../config';
import { toGatewayError } from '../errors';
import type { GatewaySocket } from './socket-types';

/** What a refused client sees: `connect_error` with `err.message` (why) and `err.data.code`. */
export type ConnectError = Error & { data: { code: string } };

/**
 * The namespace middleware (`nsp.use`) that checks the handshake's `auth.token` and puts the user
 * on `socket.data.user`. With AUTH_MODE=anonymous a socket without a token gets an anonymous user,
 * which room authorization admits to public rooms only; a bad token is refused in every mode.
 */
export function authenticate(
  verifier: TokenVerifier,
  revocations: Revocations,
  mode: Config['AUTH_MODE'],
  /** Checks after the token (the per-user connection limit); throws a GatewayError to refuse. */
  admit: (user: SocketUser) => Promise<void> = () => Promise.resolve(),
) {
  return (socket: GatewaySocket, next: (err?: Error) => void): void => {
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    const token = auth && typeof auth === 'object' ? auth.token : undefined;
    if ((token === undefined || token === null || token === '') && mode === 'anonymous') {
      const user: SocketUser = { id: `anon:${socket.id}`, roles: [], anonymous: true };
      setUserOf(socket, user);
      next();
      return;
    }
    const admitted = async () => {
      const verified = await verifyUnrevoked(verifier, revocations, token);
      await admit(verified.user);
      return verified;
    };
    admitted().then(
      ({ user, expiresAt }) => {
        setUserOf(socket, user);
        // Watched from the connection on (server.ts): past it and the grace, the socket is closed.
        socket.data.tokenExpiresAt = expiresAt;
        // Verified once: the token is not needed for the socket's lifetime (256 B a socket).
        delete auth?.token;
        next();
      },
      (err: unknown) => {
        const error = toGatewayError(err);
        const internal = error.code === 'internal';
        const refused: ConnectError = Object.assign(
          new Error(internal ? 'authentication failed' : error.message),
          {
            data: { code: internal ? 'unauthorized' : error.code },
          },
        );
        next(refused);
      },
    );
  };
}

/** A token that verifies and whose user has not revoked it since it was issued. */
export async function verifyUnrevoked(
  verifier: TokenVerifier,
  revocations: Revocations,
  token: unknown,
): Promise<VerifiedToken> {
  const verified = await verifier.verifyToken(token);
  await revocations.check(verified);
  return verified;
}
