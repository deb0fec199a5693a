import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { publicKeyPem, type Config } from '../config';
import { GatewayError } from '../errors';
import { isSafeSegment } from '../ids';
import type { SocketUser } from './user';

type TokenConfig = Pick<
  Config,
  | 'JWT_ALG'
  | 'JWT_SECRET'
  | 'JWT_PUBLIC_KEY'
  | 'JWT_ISSUER'
  | 'JWT_AUDIENCE'
  | 'JWT_CLOCK_TOLERANCE_S'
>;

/** The claims Switchboard reads: `sub` is the user id (it becomes part of room names), `roles` optional. */
const Claims = z.object({
  sub: z
    .string()
    .refine(isSafeSegment, 'sub must be 1-128 characters of letters, digits, _ . : @ -'),
  roles: z.array(z.string().max(64)).max(32).default([]),
  // Checked by jose already (exp required); read here for the socket's expiry.
  exp: z.number(),
  iat: z.number().optional(),
});

/**
 * Verifies handshake tokens. Only the configured algorithm is accepted (so `alg: none` and
 * HS/RS confusion are refused), and exp, nbf, iss and aud are always checked.
 */
export class TokenVerifier {
  private readonly key: Uint8Array | KeyObject;

  constructor(private readonly config: TokenConfig) {
    this.key =
      config.JWT_ALG === 'RS256'
        ? createPublicKey(publicKeyPem(config.JWT_PUBLIC_KEY ?? ''))
        : new TextEncoder().encode(config.JWT_SECRET);
  }

  /** Returns the user, or throws GatewayError `unauthorized` whose message says why. */
  async verify(token: unknown): Promise<SocketUser> {
    return (await this.verifyToken(token)).user;
  }

  /** The user and the token's lifetime (`exp`, `iat` in ms); throws as `verify` does. */
  async verifyToken(token: unknown): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0)
      throw new GatewayError('unauthorized', 'token required');
    if (token.length > 8192) throw new GatewayError('unauthorized', 'token malformed: too long');
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: [this.config.JWT_ALG],
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        clockTolerance: this.config.JWT_CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      throw new GatewayError('unauthorized', describeJoseError(err), { cause: err });
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success)
      throw new GatewayError(
        'unauthorized',
        `token claims invalid: ${claims.error.issues[0]?.message}`,
      );
    return {
      user: { id: claims.data.sub, roles: claims.data.roles, anonymous: false },
      expiresAt: claims.data.exp * 1000,
      ...(claims.data.iat === undefined ? {} : { issuedAt: claims.data.iat * 1000 }),
    };
  }
}

/** A verified token: who, and until when. */
export interface VerifiedToken {
  user: SocketUser;
  /** The `exp` claim, in ms since epoch. */
  expiresAt: number;
  /** The `iat` claim, in ms since epoch, when the token has one. */
  issuedAt?: number;
}

/** One short reason per failure, for the client's connect_error message. */
function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'token not yet valid';
    if (err.claim === 'iss') return 'token issuer mismatch';
    if (err.claim === 'aud') return 'token audience mismatch';
    return `token claim ${err.claim} invalid: ${err.reason}`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  return 'token malformed';
}

export interface MintOptions {
  userId: string;
  roles?: readonly string[];
  /** Lifetime in seconds (default one hour). */
  ttlSeconds?: number;
}

/**
 * Mints an HS256 token the gateway accepts (development and tests; production tokens come from
 * the identity provider). Throws `invalid_argument` for a bad user id or an RS256 setup.
 *
 * @example mintToken(config, { userId: '42', roles: ['admin'] })
 */
export async function mintToken(config: TokenConfig, opts: MintOptions): Promise<string> {
  if (config.JWT_ALG !== 'HS256')
    throw new GatewayError(
      'invalid_argument',
      'only HS256 tokens can be minted here (RS256 needs the private key of your identity provider)',
    );
  if (!isSafeSegment(opts.userId))
    throw new GatewayError(
      'invalid_argument',
      'user id must be 1-128 characters of letters, digits, _ . : @ -',
    );
  const ttl = opts.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new GatewayError('invalid_argument', 'ttl must be a positive number of seconds');
  return new SignJWT({ roles: [...(opts.roles ?? [])] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.userId)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    .sign(new TextEncoder().encode(config.JWT_SECRET));
}
