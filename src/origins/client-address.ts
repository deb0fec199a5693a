import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { TrustProxy } from '../config';

/** Whether the hop `hop` (0: the TCP peer, then X-Forwarded-For from right to left) at `address` is a trusted proxy. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * TRUST_PROXY as a trust function, compiled exactly as express compiles its `trust proxy` setting:
 * `false` trusts nobody (the TCP peer is the client), a number trusts that many hops from the
 * gateway (`1`: the nginx in front), a comma list trusts those addresses, CIDR ranges and names
 * (`loopback`, `linklocal`, `uniquelocal`). The HTTP app is given this very function
 * (`app.set('trust proxy', ...)`), so express's `req.ip`/`req.secure` and `clientAddress` agree.
 */
export function compileTrustProxy(setting: TrustProxy): ProxyTrust {
  if (setting === false) return () => false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return proxyaddr.compile(setting.split(',').map((part) => part.trim()));
}

/**
 * The client's address of a request under TRUST_PROXY: the TCP peer, or, while the peer and each
 * hop after it are trusted proxies, the next address of X-Forwarded-For from the right (so a
 * client cannot choose its own by sending the header: the proxy appends the address it saw).
 * Works for an express request and for the raw request of a socket.io handshake alike; the same
 * as express's `req.ip` with `trust proxy` set to `trust`. Undefined once the socket is gone.
 */
export function clientAddress(req: IncomingMessage, trust: ProxyTrust): string | undefined {
  return proxyaddr(req, trust);
}

/**
 * The bucket of a caller without a token, by its client's address: the same subject for a request
 * and for a socket handshake (the Admin UI's sign-in) from one client.
 */
export function addressSubject(address: string | undefined): string {
  return createHash('sha256')
    .update(`ip:${address ?? 'unknown'}`)
    .digest('hex')
    .slice(0, 32);
}
