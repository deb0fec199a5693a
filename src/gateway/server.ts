import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createHttpApp } from '../api/app';
import { originAllowed, parseOrigins } from '../api/cors';
import { roomOf, ROOMS } from '../catalog';
import { userOf } from '../auth/user';
import type { Config } from '../config';
import { GatewayError } from '../errors';
import { logger } from '../logger';
import { closeRedis, connectRedis } from '../redis/connections';
import { openRuntime, type Runtime } from '../runtime';
import { openAccess, type GatewayAccess } from './access';
import { Recovery, SubscriberWatch } from './recovery';
import { bindAction, type ActionDefinition } from './action';
import { authenticate } from './connection-auth';
import { eventGuard } from './event-guard';
import { commonActions } from './namespaces/common';
import { namespaceModules } from './namespaces/registry';
import { attachPresence, trackSocket } from './presence-hooks';

const log = logger('gateway');

export interface Gateway {
  readonly io: Server;
  readonly http: HttpServer;
  readonly runtime: Runtime;
  readonly access: GatewayAccess;
  /** The port actually bound (useful with PORT=0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts one gateway process's server: express and socket.io on one port, the Redis adapter so
 * broadcasts from any worker or gateway reach this process's sockets, and the namespace modules.
 */
export async function startGateway(config: Config): Promise<Gateway> {
  const runtime = await openRuntime(config);
  let sub: Redis | undefined;
  let access: GatewayAccess | undefined;
  try {
    access = await openAccess(runtime);
    // The adapter publishes on the runtime's command connection and needs one subscriber of its own.
    sub = await connectRedis(config.REDIS_URL, 'subscriber', 'sb-adapter-sub', config.REDIS_CONNECT_TIMEOUT_MS);
    const http = createServer(createHttpApp(runtime));
    // Keep idle keep-alive connections longer than the clients and load balancers in front (60 s
    // is common): a server that closes first races a request on the same socket (ECONNRESET, 502).
    http.keepAliveTimeout = 65_000;
    http.headersTimeout = 66_000;
    const recovery = new Recovery(runtime);
    const origins = parseOrigins(config.CORS_ORIGINS);
    const names = Object.values(namespaceModules).map((mod) => mod.name);
    const watch = new SubscriberWatch(sub, () => names.flatMap((name) => [...io.of(name).sockets.values()]));
    const io = new Server(http, {
      // socket.io closes a connection whose frame exceeds this; messages up to MAX_PAYLOAD_BYTES
      // pass, and those in between get a `payload_too_large` ack from the event guard instead.
      maxHttpBufferSize: config.MAX_PAYLOAD_BYTES * 4,
      adapter: recovery.adapter(createAdapter(runtime.redis, sub, { key: runtime.keys.adapterKey })),
      cors: { origin: origins.includes('*') ? true : [...origins] },
      // CORS does not cover websockets: check the browser's Origin on every handshake ourselves.
      // While the adapter subscriber is down, refuse handshakes (clients retry): see SubscriberWatch.
      allowRequest: (req, done) => {
        if (!watch.receiving) return done('adapter subscriber unavailable', false);
        done(null, originAllowed(req.headers.origin, origins));
      },
    });
    const gate = access;
    for (const mod of Object.values(namespaceModules)) {
      const actions: Record<string, ActionDefinition> = { ...commonActions, ...mod.actions };
      const nsp = io.of(mod.name);
      nsp.use(authenticate(gate.verifier, config.AUTH_MODE));
      attachPresence(nsp, gate.presence);
      nsp.on('connection', (socket) => {
        // A handshake admitted just before the subscriber dropped must not stay on through the gap.
        if (!watch.receiving) return void socket.conn.close();
        socket.use(eventGuard(socket, gate, config));
        trackSocket(socket, gate.presence);
        const user = userOf(socket);
        // Per-user delivery: every socket of a user on /notification is in its `user:{id}` room.
        if (mod.name === '/notification' && !user.anonymous) void socket.join(roomOf(ROOMS.user, { userId: user.id }));
        const ctx = { socket, nsp, deps: runtime, access: gate, recovery };
        for (const [name, def] of Object.entries(actions)) bindAction(name, def, ctx);
        // An action this namespace does not have still gets an answer if the client asked for one.
        socket.onAny((event: string, ...args: unknown[]) => {
          const ack = args[args.length - 1];
          if (!Object.hasOwn(actions, event) && typeof ack === 'function') {
            const error = new GatewayError('unknown_action', `${mod.name} has no action ${JSON.stringify(String(event).slice(0, 64))}`);
            (ack as (res: unknown) => void)({ ok: false, error: error.toJSON() });
          }
        });
      });
    }
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.PORT, config.HOST, () => resolve());
    });
    const port = (http.address() as AddressInfo).port;
    const subscriber = sub;
    // Idempotent: a second close() waits for the first.
    let closing: Promise<void> | undefined;
    return {
      io,
      http,
      runtime,
      access: gate,
      port,
      close() {
        closing ??= (async () => {
          // io.close() stops accepting, then closes every transport without a socket.io DISCONNECT
          // packet: clients see "transport close" and reconnect (to another gateway behind the
          // load balancer). A server-side disconnect would tell them not to come back.
          const closed = new Promise<void>((resolve) => io.close(() => resolve()));
          http.closeIdleConnections();
          await closed;
          // Before the runtime: dropping this gateway's presence publishes offline transitions.
          await gate.close();
          await runtime.close();
          watch.stop();
          await closeRedis(subscriber);
        })();
        return closing;
      },
    };
  } catch (err) {
    if (sub) await closeRedis(sub);
    if (access) await access.close();
    await runtime.close();
    log.error({ err: (err as Error).message }, 'gateway failed to start');
    throw err;
  }
}
