import { randomBytes } from 'node:crypto';
import { mintToken } from '../../src/auth/tokens';
import { ADMIN_ROLE } from '../../src/auth/user';
import type { Config } from '../../src/config';

/**
 * Identity settings of one bench deployment. Every process of it (gateway, worker, producer,
 * or the in-process gateway of the throttle scenario) is started with this same
 * environment, and the orchestrator loads its Config from it too, so the tokens it mints verify
 * in the gateway. A fresh random secret per run: the bench never relies on the published
 * development secret, and it passes the production checks if NODE_ENV=production is inherited.
 * AUTH_MODE=required is pinned so an inherited AUTH_MODE=anonymous cannot change what is measured.
 */
export function benchAuthEnv(): Record<string, string> {
  return {
    AUTH_MODE: 'required',
    JWT_ALG: 'HS256',
    JWT_SECRET: randomBytes(32).toString('hex'),
    PUBLISH_TOKEN: randomBytes(24).toString('hex'),
  };
}

/**
 * The configuration a deployment runs, for every process a bench starts: benchAuthEnv's identity,
 * NODE_ENV=production (which refuses development secrets and keeps the Admin UI off unless asked)
 * and an ADMIN_TOKEN, as an operator sets them. Scenarios add ADMIN_UI=on where they report its cost.
 */
export function benchDeploymentEnv(): Record<string, string> {
  return {
    ...benchAuthEnv(),
    NODE_ENV: 'production',
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
  };
}

/**
 * One token per bench client, each for a distinct user (`<label>-<n>`) with role admin (order
 * rooms admit the order's owner or an admin). Distinct users rather than raised limits: the
 * per-user bucket (RATE_USER_*, shared by all sockets of a user) would refuse the joins of 100
 * sockets of one user within a second, and with one user per socket the gateway runs with its
 * default rate limits, as deployed. Tokens are checked once, at the handshake, so a long run
 * cannot outlive them; the TTL only has to cover the start-up.
 */
export function mintBenchTokens(config: Config, label: string, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      mintToken(config, { userId: `${label}-${i}`, roles: [ADMIN_ROLE], ttlSeconds: 24 * 3600 }),
    ),
  );
}
