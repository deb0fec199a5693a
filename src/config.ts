import { createPublicKey } from 'node:crypto';
import { compile as compileTrust } from 'proxy-addr';
import { z } from 'zod';
import { secretWeakness } from './secret-strength';

/** TRUST_PROXY as express's `trust proxy` setting takes it: off, a hop count, or a list. */
export type TrustProxy = false | number | string;

/**
 * Every setting Switchboard reads, from environment variables, checked once by zod.
 * Values that two processes must agree on (key prefix, queue name) come only from here.
 */
const intFrom = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Development defaults: public on purpose, so `npm start` works; NODE_ENV=production refuses them. */
export const DEV_JWT_SECRET = 'switchboard-development-secret-do-not-deploy';
export const DEV_PUBLISH_TOKEN = 'switchboard-dev-publish-token';
/** A worker's metrics port unless METRICS_PORT says otherwise (the OpenTelemetry Prometheus exporter's). */
export const DEFAULT_METRICS_PORT = 9464;
/** A gateway's port unless PORT says otherwise (`npm start` gives gateway n PORT+n). */
export const DEFAULT_PORT = 3000;

export const ConfigSchema = z.object({
  PORT: intFrom(0, 65535, DEFAULT_PORT),
  /**
   * The gateway's listen backlog: connections the kernel holds before the gateway accepts them.
   * Node's default (511) overflows when thousands of clients connect at once (after a deploy or a
   * network blip) and refused clients fail with a websocket error; the kernel caps this at
   * `net.core.somaxconn`.
   */
  LISTEN_BACKLOG: intFrom(1, 65535, 4096),
  /**
   * The gateway's bind address. Unset: every interface (`0.0.0.0`) in production, loopback
   * (`127.0.0.1`) otherwise: the development secrets are published in the README and docs, so a development
   * gateway reachable from the network would take tokens anyone can sign. HOST=0.0.0.0 to expose one.
   */
  HOST: z.string().min(1).optional(),
  /**
   * A worker's `/metrics` and `/readyz` port (`0`: any free port) and bind address. The gateway
   * serves both on PORT instead. Counts only, no rooms or users (docs/operating.md, Metrics).
   */
  METRICS_PORT: intFrom(0, 65535, DEFAULT_METRICS_PORT),
  /** Unset: like HOST (every interface in production, loopback otherwise). */
  METRICS_HOST: z.string().min(1).optional(),
  /** One URL; with REDIS_MODE=cluster, one or more seed nodes, comma-separated. */
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine(
      (v) => v.split(',').every((url) => /^rediss?:\/\/[^\s,]+$/.test(url.trim())),
      'must look like redis://host:port[/db] (a comma-separated list of seed nodes with REDIS_MODE=cluster)',
    ),
  /**
   * `standalone`: one Redis (or a primary with replicas behind a fixed address). `cluster`: Redis
   * Cluster; the gateways use the sharded adapter (SSUBSCRIBE) and the workers SPUBLISH.
   */
  REDIS_MODE: z.enum(['standalone', 'cluster']).default('standalone'),
  // No braces: the keys carry their own hash tags (docs/delivery.md, Redis keys).
  KEY_PREFIX: z
    .string()
    .default('sb')
    .refine((v) => /^[A-Za-z0-9_.-]{1,64}$/.test(v), 'letters, digits, _ . - only (1-64 chars)'),
  QUEUE_NAME: z
    .string()
    .default('events')
    .refine((v) => /^[A-Za-z0-9_-]{1,64}$/.test(v), 'letters, digits, _ - only (1-64 chars)'),
  /** Throttle-store jobs (window flushes, operator emits) one worker runs at once. */
  WORKER_CONCURRENCY: intFrom(1, 1000, 50),
  /**
   * Delivery batches: a batch leaves as soon as no add is in flight, unless the previous one left
   * less than BATCH_LINGER_MS ago; then it waits out the rest of that time, gathering more events.
   * A lone event at low load therefore leaves at once. 0 turns the wait off.
   */
  BATCH_LINGER_MS: intFrom(0, 1000, 8),
  /** Caps of one delivery batch (one BullMQ job): events, and bytes of their JSON payloads. */
  BATCH_MAX_EVENTS: intFrom(1, 10_000, 500),
  BATCH_MAX_BYTES: intFrom(1024, 64 * 1024 * 1024, 1_048_576),
  /**
   * How long the worker remembers that a batch was emitted (a marker written atomically with the
   * emit). A re-run of the same job within it (a stalled job, an automatic retry) never publishes
   * the batch again. One small key per batch lives this long.
   */
  EMIT_MARKER_TTL_MS: intFrom(1000, 7 * 24 * 3_600_000, 600_000),
  /**
   * `auto`: the worker re-validates a batch against the catalog only when the producer stamped it
   * with another catalog version. `always`: every batch (costs CPU per event; see docs/performance.md).
   */
  WORKER_VALIDATE: z.enum(['auto', 'always']).default('auto'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * The Socket.IO Admin UI (`/admin/socket.io/`): `on` or `off` (default). Its own switch, not
   * ADMIN_TOKEN's: it instruments every packet of every connection and broadcasts stats every 2 s,
   * so production turns it on only when an operator wants it. Needs ADMIN_TOKEN to sign in.
   */
  ADMIN_UI: z.enum(['on', 'off']).default('off'),
  /**
   * Which proxies in front of the gateway are believed about the client (X-Forwarded-For, -Proto):
   * `off` (default: the TCP peer is the client), a hop count (`1`: one nginx in front), or a comma
   * list of addresses, CIDR ranges or express's names (`loopback`, `uniquelocal`). Set it behind a
   * load balancer, or every client shares the balancer's rate-limit bucket; never set it on a
   * gateway that clients reach directly (they could then choose their own address).
   */
  TRUST_PROXY: z
    .string()
    .default('off')
    .transform((v, ctx): TrustProxy => {
      const value = v.trim();
      if (value === 'off' || value === 'false') return false;
      if (/^\d+$/.test(value)) return Number(value);
      try {
        compileTrust(value.split(',').map((part) => part.trim()));
      } catch {
        ctx.addIssue({
          code: 'custom',
          message:
            'off, a hop count, or a comma list of addresses, CIDR ranges, loopback, linklocal or uniquelocal',
        });
        return z.NEVER;
      }
      return value;
    }),
  /** How long a process waits for Redis at start-up before it gives up with one clear line. */
  REDIS_CONNECT_TIMEOUT_MS: intFrom(100, 120_000, 5000),
  /** Upper bound on how long an accept (enqueue) may take before the caller gets `unavailable`. */
  ENQUEUE_TIMEOUT_MS: intFrom(50, 60_000, 2000),
  /** How long an idempotency key of a publish remembers its event id (default one day). */
  IDEMPOTENCY_TTL_MS: intFrom(1000, 30 * 24 * 3_600_000, 86_400_000),
  /** Attempts per delivery job before it is kept as failed. */
  JOB_ATTEMPTS: intFrom(1, 100, 10),
  /**
   * BullMQ job lock of a worker (renewed every half) and its stalled-check interval. The jobs a
   * crashed (SIGKILLed) worker had in flight, or a job Redis handed out just before it went away
   * (reply lost), are retried only after their lock expired and a stalled check saw them twice:
   * within about 2-3x this. BullMQ's default is 30 s.
   */
  WORKER_LOCK_MS: intFrom(1000, 600_000, 30_000),
  /** Room history for recovery on reconnect: entries kept per room, and their maximum age. */
  HISTORY_MAX_LEN: intFrom(1, 1_000_000, 1000),
  HISTORY_MAX_AGE_MS: intFrom(1000, 7 * 24 * 3_600_000, 600_000),
  /** Folder of server-side handler files; default: workers/handlers next to the worker. */
  HANDLERS_DIR: z.string().min(1).optional(),
  HANDLER_CONCURRENCY: intFrom(1, 1000, 10),
  /**
   * Handlers run from the handler inbox; after a read that was not full a worker waits this long
   * before the next, so one read serves many batches. Delays handlers, never delivery.
   */
  HANDLER_LINGER_MS: intFrom(0, 10_000, 20),
  /** Attempts per handler job (exponential backoff from 500 ms) before it is kept as failed. */
  HANDLER_ATTEMPTS: intFrom(1, 100, 5),
  /** Rooms one socket may be in at once (its own private room not counted); past it, `too_many_rooms`. */
  MAX_ROOMS_PER_SOCKET: intFrom(1, 100_000, 100),
  /**
   * Bytes the gateway may hold for one client that is not reading (engine.io's write buffer plus
   * the websocket's): past it the connection is closed with code 4008 `slow_consumer`.
   */
  MAX_CLIENT_BUFFER_BYTES: intFrom(65_536, 1_073_741_824, 1_048_576),
  /** Largest HTTP JSON body and socket message, in bytes. */
  MAX_PAYLOAD_BYTES: intFrom(256, 10_000_000, 65_536),
  /** How often the sweep (a BullMQ job scheduler) looks for open windows whose flush was lost. */
  SWEEP_INTERVAL_MS: intFrom(100, 3_600_000, 30_000),
  /**
   * How often a worker checks that what it created at start (the sweep's scheduler, the handler
   * registry) is still in Redis, and writes it again if Redis lost its data.
   */
  SELF_HEAL_INTERVAL_MS: intFrom(100, 600_000, 5_000),
  /** An entry is swept once older than its window plus this grace; a claim once older than this. */
  SWEEP_GRACE_MS: intFrom(0, 3_600_000, 5_000),
  /**
   * Test hook, 0 (off) in every real deployment: a flush waits this long between claiming an entry
   * and emitting it, so a test can kill the worker at exactly that point.
   */
  FLUSH_PAUSE_AFTER_CLAIM_MS: intFrom(0, 600_000, 0),

  // ---- identity (docs/auth.md) ----------------------------------------------------------------
  /** `production` refuses the development secrets below, so a forgotten variable fails fast. */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** `required`: every socket presents a valid JWT. `anonymous`: tokenless sockets may use public (post) rooms only. */
  AUTH_MODE: z.enum(['required', 'anonymous']).default('required'),
  JWT_ALG: z.enum(['HS256', 'RS256']).default('HS256'),
  /** HS256 shared secret. The default is a published development secret, refused in production. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEV_JWT_SECRET),
  /** RS256 public key (SPKI PEM; `\n` escapes allowed) used when JWT_ALG=RS256. */
  JWT_PUBLIC_KEY: z.string().optional(),
  JWT_ISSUER: z.string().min(1).default('switchboard'),
  JWT_AUDIENCE: z.string().min(1).default('switchboard'),
  /** Allowed clock skew for exp/nbf, in seconds. */
  JWT_CLOCK_TOLERANCE_S: intFrom(0, 300, 5),
  /**
   * How long a socket stays connected after its token's `exp` without a `refresh_token`: then it is
   * sent `disconnect_reason { reason: 'token_expired' }` and disconnected (the client library
   * refreshes ahead of expiry).
   */
  TOKEN_EXPIRY_GRACE_MS: intFrom(0, 600_000, 25_000),
  /**
   * Sockets one user may have on all gateways together (one per namespace a client is connected
   * to); one more handshake is refused with `too_many_connections`. 0: no limit.
   */
  MAX_CONNECTIONS_PER_USER: intFrom(0, 100_000, 0),
  /**
   * How long a revocation (POST /admin/users/:id/revoke) is kept: set it to the longest lifetime
   * of the tokens your identity provider issues; a token older than that has expired anyway.
   */
  TOKEN_REVOCATION_TTL_S: intFrom(60, 31_536_000, 86_400),
  /** Bearer token of services calling the HTTP API (/api). Separate from ADMIN_TOKEN. */
  PUBLISH_TOKEN: z.string().min(16, 'must be at least 16 characters').default(DEV_PUBLISH_TOKEN),
  /** Browser origins allowed to call the API and open sockets: comma list, or `*`. Empty: none. */
  CORS_ORIGINS: z.string().default(''),
  /**
   * Hostnames (optionally `host:port`, comma list) this gateway is served at, e.g.
   * `rt.example.com`. A page from one of them is same-origin without CORS_ORIGINS; a page whose
   * name merely resolves here (DNS rebinding) is not. IP addresses and localhost need no entry.
   */
  PUBLIC_HOSTS: z.string().default(''),

  // ---- presence ---------------------------------------------------------------------------------
  /** How often a gateway renews its presence lease and reaps the entries of dead gateways. */
  PRESENCE_HEARTBEAT_MS: intFrom(50, 60_000, 5_000),
  /** A gateway silent this long is dead; its users go offline (unless connected elsewhere). */
  PRESENCE_TTL_MS: intFrom(100, 600_000, 15_000),
  /**
   * Role a socket needs to see who is online (get_online, get_presence, the presence room). Empty
   * (default): any signed-in user. Anonymous sockets never see presence.
   */
  PRESENCE_ROLE: z
    .string()
    .regex(/^[\w.:-]{0,64}$/, 'must be a role name (letters, digits, _ . : -)')
    .default(''),

  // ---- rate limits (token buckets: capacity = burst, refill per second = sustained rate) ------
  RATE_SOCKET_BURST: intFrom(1, 100_000, 30),
  RATE_SOCKET_PER_SEC: intFrom(1, 100_000, 10),
  RATE_USER_BURST: intFrom(1, 100_000, 60),
  RATE_USER_PER_SEC: intFrom(1, 100_000, 20),
  /** Refused events in a row after which a flooding socket is disconnected. */
  RATE_FLOOD_DISCONNECT_AFTER: intFrom(1, 1_000_000, 100),
  /** HTTP requests per token (or per IP without one). */
  RATE_HTTP_BURST: intFrom(1, 1_000_000, 200),
  RATE_HTTP_PER_SEC: intFrom(1, 1_000_000, 100),
  /**
   * Requests per second for the publish token on /api (a trusted backend). 0 (default): not
   * limited. Other callers of /api and /admin keep the per-token/IP limits above.
   */
  RATE_PUBLISH_PER_SEC: intFrom(0, 1_000_000, 0),
  RATE_PUBLISH_BURST: intFrom(1, 1_000_000, 1000),
  /** Events one `POST /api/events/batch` may carry. */
  PUBLISH_BATCH_MAX: intFrom(1, 10_000, 1000),
  /** Largest body of `POST /api/events/batch`, in bytes (each item's data still within MAX_PAYLOAD_BYTES). */
  PUBLISH_BATCH_MAX_BYTES: intFrom(1024, 100_000_000, 4_194_304),
});

/** The bind addresses, once NODE_ENV is known (see HOST). */
function withBindDefaults(c: z.infer<typeof ConfigSchema>) {
  const everywhere = c.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1';
  return { ...c, HOST: c.HOST ?? everywhere, METRICS_HOST: c.METRICS_HOST ?? everywhere };
}

export type Config = Readonly<ReturnType<typeof withBindDefaults>>;

/** Cross-field rules: production needs real secrets; RS256 needs its key; the TTL must outlast heartbeats. */
function checkSecrets(c: z.infer<typeof ConfigSchema>, ctx: z.RefinementCtx): void {
  const problem = (path: string, message: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  if (c.NODE_ENV === 'production') {
    if (c.JWT_ALG === 'HS256' && c.JWT_SECRET === DEV_JWT_SECRET)
      problem('JWT_SECRET', 'must be set in production');
    if (c.PUBLISH_TOKEN === DEV_PUBLISH_TOKEN)
      problem('PUBLISH_TOKEN', 'must be set in production');
    checkStrength(c, problem);
  }
  if (c.ADMIN_UI === 'on' && !c.ADMIN_TOKEN)
    problem('ADMIN_UI', 'on needs ADMIN_TOKEN (the Admin UI signs in with it)');
  if (c.JWT_ALG === 'RS256' && !c.JWT_PUBLIC_KEY)
    problem('JWT_PUBLIC_KEY', 'is required when JWT_ALG=RS256');
  if (c.JWT_ALG === 'RS256' && c.JWT_PUBLIC_KEY && !isPublicKey(c.JWT_PUBLIC_KEY)) {
    problem(
      'JWT_PUBLIC_KEY',
      'is not a PEM public key (-----BEGIN PUBLIC KEY-----, SPKI; \\n escapes allowed)',
    );
  }
  if (c.PRESENCE_TTL_MS <= c.PRESENCE_HEARTBEAT_MS * 2)
    problem('PRESENCE_TTL_MS', 'must be more than twice PRESENCE_HEARTBEAT_MS');
}

/** The PEM text of JWT_PUBLIC_KEY (`\\n` escapes let it sit on one line of an env file). */
export function publicKeyPem(raw: string): string {
  return raw.replace(/\\n/g, '\n');
}

/** Whether JWT_PUBLIC_KEY parses, so a bad key is a config error naming it, not an OpenSSL message at first use. */
function isPublicKey(raw: string): boolean {
  try {
    return createPublicKey(publicKeyPem(raw)).type === 'public';
  } catch {
    return false;
  }
}

/** The production secrets that are set, by name (JWT_SECRET only when it signs: HS256). */
function productionSecrets(c: z.infer<typeof ConfigSchema>): [string, string][] {
  const set: [string, string | undefined][] = [
    ['JWT_SECRET', c.JWT_ALG === 'HS256' ? c.JWT_SECRET : undefined],
    ['PUBLISH_TOKEN', c.PUBLISH_TOKEN],
    ['ADMIN_TOKEN', c.ADMIN_TOKEN],
  ];
  return set.filter((entry): entry is [string, string] => entry[1] !== undefined);
}

/** Values published in this repo's docs and defaults: refused in production whatever their entropy. */
const PLACEHOLDERS: ReadonlySet<string> = new Set([
  DEV_JWT_SECRET,
  DEV_PUBLISH_TOKEN,
  'change-me-to-16-chars-or-more',
]);

/** Production refuses placeholders, low-entropy values and one value reused for two secrets (by name only). */
function checkStrength(
  c: z.infer<typeof ConfigSchema>,
  problem: (path: string, message: string) => void,
): void {
  const secrets = productionSecrets(c);
  for (const [name, value] of secrets) {
    if (
      (name === 'JWT_SECRET' && value === DEV_JWT_SECRET) ||
      (name === 'PUBLISH_TOKEN' && value === DEV_PUBLISH_TOKEN)
    )
      continue; // "must be set"
    const weakness = secretWeakness(value, PLACEHOLDERS);
    if (weakness) problem(name, weakness);
  }
  secrets.forEach(([name, value], i) => {
    const first = secrets.findIndex((other) => other[1] === value);
    if (first < i)
      problem(
        name,
        `must differ from ${secrets[first]?.[0] ?? ''} (one leaked secret would open both)`,
      );
  });
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads and validates the configuration. Throws a ConfigError whose message is a single line
 * naming every bad variable, e.g. `invalid configuration: PORT: expected number, received NaN`.
 */
/** Variables whose value is never printed, not even in an error about them: only the name and the rule. */
const SECRETS = new Set(['JWT_SECRET', 'JWT_PUBLIC_KEY', 'ADMIN_TOKEN', 'PUBLISH_TOKEN']);

/** How a bad value is shown in a config error: secrets not at all, URLs without their credentials. */
function shownValue(name: string, value: string | undefined): string | undefined {
  if (value === undefined || SECRETS.has(name)) return undefined;
  return JSON.stringify(name === 'REDIS_URL' ? redactUrl(value) : value);
}

/** A Redis URL (or comma-separated list) with every user:password replaced, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/,]*)@/g, '//***@');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset so `PORT= npm start` falls back to the default.
  const raw: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = ConfigSchema.superRefine(checkSecrets).transform(withBindDefaults).safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const got = shownValue(name, raw[name]);
      return `${name}: ${issue.message}${got === undefined ? '' : ` (got ${got})`}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}

/** Loads the config for a process entry point; on error prints one line and exits non-zero. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
