import { randomBytes } from 'node:crypto';
import { safeEqual } from '../auth/safe-equal';
import type { RedisClient } from '../redis/connections';
import type { Keys } from '../redis/keys';

/**
 * Operator sessions of the browser pages under /admin and of the Socket.IO Admin UI: the login
 * cookie (an opaque random id whose SHA-256 is a Redis key with a TTL; the token never goes into a
 * cookie) and the `admin` / ADMIN_TOKEN credential check, shared by the HTTP pages and the Admin
 * UI's socket handshake.
 */
export const ADMIN_USER = 'admin';
export const SESSION_COOKIE = 'sb_admin';
/** How long a login lasts (fixed, not sliding). */
export const SESSION_TTL_S = 8 * 3600;

/** 32 random bytes, base64url. */
const SESSION_ID_RE = /^[A-Za-z0-9_-]{43}$/;

/** Dashboard sessions in Redis: `<prefix>:admin:session:<sha256 of id>` = 1, expiring after SESSION_TTL_S. */
export class AdminSessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<Keys, 'adminSession'>,
    private readonly ttlS: number = SESSION_TTL_S,
  ) {}

  async create(): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.redis.set(this.keys.adminSession(id), '1', 'EX', this.ttlS);
    return id;
  }

  /** Whether `id` names a live session. Malformed ids are refused without a Redis call. */
  async valid(id: string | undefined): Promise<boolean> {
    if (id === undefined || !SESSION_ID_RE.test(id)) return false;
    return (await this.redis.exists(this.keys.adminSession(id))) === 1;
  }

  async revoke(id: string | undefined): Promise<void> {
    if (id !== undefined && SESSION_ID_RE.test(id))
      await this.redis.del(this.keys.adminSession(id));
  }
}

/** The value of the session cookie in a Cookie header, if any. */
export function sessionCookieOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether user and password are `admin` and ADMIN_TOKEN. Both are always compared (constant time
 * each), so the timing tells neither which one was wrong nor the token's length.
 */
export function adminCredentialsOk(
  token: string | undefined,
  user: unknown,
  password: unknown,
): boolean {
  if (!token || typeof user !== 'string' || typeof password !== 'string') return false;
  const userOk = safeEqual(user, ADMIN_USER);
  const passwordOk = safeEqual(password, token);
  return userOk && passwordOk;
}
