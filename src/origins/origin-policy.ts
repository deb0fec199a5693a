import { isIP } from 'node:net';
import type { Config } from '../config';
import { logger } from '../logger';

const log = logger('cors');

/** CORS_ORIGINS parsed: a list of exact origins, or `*` for any. */
export function parseOrigins(raw: string): readonly string[] {
  return raw
    .split(',')
    .map((o) => o.trim().replace(/\/$/, ''))
    .filter((o) => o.length > 0);
}

/** What the origin policy decided about one request, and why (the refusal text clients and logs show). */
export interface OriginVerdict {
  readonly allowed: boolean;
  readonly why: string;
}

/** `(Origin header, Host header) => verdict`: the one rule of the HTTP API and socket handshakes. */
export type OriginPolicy = (origin: string | undefined, host: string | undefined) => OriginVerdict;

/** Hostnames of this machine that any port of, over http or https, is trusted outside production. */
const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Longest piece of an Origin header repeated in a refusal or a log line. */
const MAX_ECHO = 200;

/**
 * Which browser origins may call the HTTP API and open sockets. In order:
 * - no Origin header: not a browser cross-origin request (services, Node clients): allowed;
 * - listed in CORS_ORIGINS (or CORS_ORIGINS is `*`): allowed;
 * - same origin: the Origin's host and port equal the request's Host header (a page served through
 *   this gateway's address), and that Host is one the gateway answers for: an IP address, a local
 *   hostname, or listed in PUBLIC_HOSTS. A name anyone can point at this machine (DNS rebinding:
 *   `evil.example` resolving to the gateway sends `Origin` and `Host` both `evil.example`) is not
 *   enough. Only Host counts, never X-Forwarded-Host/-Proto: a request could claim any forwarded
 *   host. Behind a proxy that rewrites Host, list the public origin in CORS_ORIGINS instead;
 * - outside production (NODE_ENV not `production`): http(s)://localhost, 127.0.0.1 or [::1] on any
 *   port (frontend dev servers such as http://localhost:5173);
 * - anything else is refused, with a `why` naming the origin and the setting that admits it.
 */
export function originPolicy(
  config: Pick<Config, 'CORS_ORIGINS' | 'NODE_ENV' | 'PUBLIC_HOSTS'>,
): OriginPolicy {
  const listed = parseOrigins(config.CORS_ORIGINS);
  const any = listed.includes('*');
  const development = config.NODE_ENV !== 'production';
  const publicHosts = parsePublicHosts(config.PUBLIC_HOSTS);
  return (origin, host) => {
    if (origin === undefined) return { allowed: true, why: 'no Origin header' };
    if (any || listed.includes(origin)) return { allowed: true, why: 'listed in CORS_ORIGINS' };
    const url = webOrigin(origin);
    const same = url !== undefined && host !== undefined && sameHost(url, host);
    if (same && answersFor(url, publicHosts)) return { allowed: true, why: 'same origin' };
    if (url && development && LOCAL_HOSTNAMES.has(url.hostname))
      return { allowed: true, why: 'local origin outside production' };
    const local = url !== undefined && LOCAL_HOSTNAMES.has(url.hostname);
    const why = same
      ? `origin ${echo(origin)} is not allowed: its host is not in PUBLIC_HOSTS (the names this gateway is served at), nor in CORS_ORIGINS`
      : `origin ${echo(origin)} is not allowed: add it to CORS_ORIGINS (comma-separated), or serve the page from this gateway` +
        (local
          ? ' (local origins are allowed without it only when NODE_ENV is not production)'
          : '');
    return { allowed: false, why };
  };
}

/** PUBLIC_HOSTS parsed: lower-case hostnames, each with or without a port. */
export function parsePublicHosts(raw: string): ReadonlySet<string> {
  return new Set(
    raw
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h.length > 0),
  );
}

/**
 * Whether a same-origin request's host is one this gateway answers for: an IP literal or a local
 * hostname (a browser sends those only when the user typed them; a rebinding page's Host is its
 * own name), or a name listed in PUBLIC_HOSTS, alone or with this port.
 */
function answersFor(origin: URL, publicHosts: ReadonlySet<string>): boolean {
  const name = origin.hostname.toLowerCase();
  if (LOCAL_HOSTNAMES.has(name) || isIP(name.replace(/^\[|\]$/g, '')) !== 0) return true;
  return publicHosts.has(name) || publicHosts.has(origin.host.toLowerCase());
}

/** The Origin as a URL when it is a plain http(s) origin (`scheme://host[:port]`, nothing else). */
function webOrigin(origin: string): URL | undefined {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin
      ? url
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a Host header (`host[:port]`) names the same host and port as the origin. Parsed with the
 * origin's scheme so a default port matches whether written or not (`example.com` = `example.com:443`
 * for https); anything beyond host and port in the header (a path, credentials) never matches.
 */
function sameHost(origin: URL, host: string): boolean {
  try {
    const parsed = new URL(`${origin.protocol}//${host}`);
    if (
      parsed.username ||
      parsed.password ||
      parsed.pathname !== '/' ||
      parsed.search ||
      parsed.hash
    )
      return false;
    return parsed.host === origin.host;
  } catch {
    return false;
  }
}

/**
 * An Origin header as repeated in refusals and logs: at most MAX_ECHO characters, and only those an
 * origin can legitimately contain (the websocket refusal body is sent as text/html).
 */
function echo(origin: string): string {
  const safe = origin.slice(0, MAX_ECHO).replace(/[^\w.:/[\]%+~@-]/g, '?');
  return origin.length > MAX_ECHO ? `${safe}…` : safe;
}

/** At most one refusal line per this long per process; the others are counted into the next line. */
const REFUSAL_LOG_EVERY_MS = 10_000;
let lastRefusalLogAt = -Infinity;
let refusalsNotLogged = 0;

/**
 * The warn line of a refused request; `what` is e.g. `socket handshake` or `API preflight`. Sampled:
 * the first refusal is logged, then at most one line per 10 s carrying how many were not
 * (`unlogged`), so a flood of refused origins costs a counter, not a line each.
 */
export function logRefusal(
  what: string,
  verdict: OriginVerdict,
  origin: string | undefined,
  host: string | undefined,
  now = Date.now(),
): void {
  if (now - lastRefusalLogAt < REFUSAL_LOG_EVERY_MS) {
    refusalsNotLogged++;
    return;
  }
  const unlogged = refusalsNotLogged;
  lastRefusalLogAt = now;
  refusalsNotLogged = 0;
  log.warn(
    {
      origin: origin === undefined ? undefined : echo(origin),
      host: host?.slice(0, MAX_ECHO),
      ...(unlogged > 0 ? { unlogged } : {}),
    },
    refusalLine(what, verdict),
  );
}

/** The message of that warn line. */
export function refusalLine(what: string, verdict: OriginVerdict): string {
  return `${what} refused: ${verdict.why}`;
}
