import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { RedisClient } from '../redis/connections';
import { Server, type Socket } from 'socket.io';
import { pingCheck, PubSubProbe, readiness, type Readiness } from '../health/readiness';
import { GatewayMetrics, RATE_LIMITED, SLOW_CONSUMER } from '../metrics/gateway-metrics';
import { logRefusal, originPolicy } from '../origins/origin-policy';
import { NAMESPACES, roomOf, ROOMS, USER_ROOM_NAMESPACES } from '../catalog';
import { userOf, type SocketUser } from '../auth/user';
import { GatewayError } from '../errors';
import type { Config } from '../config';
import { logger } from '../logger';
import type { RunningProcess } from '../lifecycle/run-process';
import { closeRedis, connectRedis } from '../redis/connections';
import type { Runtime } from '../runtime';
import { openAccess, type GatewayAccess } from './access';
import { dropFailedPublishes } from './adapter-publisher';
import { attachAdminUi } from './admin-ui';
import { adapterMembership } from './room-membership';
import type { RoomMembership } from '../domain/chats';
import { Recovery } from './recovery';
import { SubscriberWatch } from './subscriber-watch';
import { bindActions, type ActionDefinition } from './action';
import { authenticate } from './connection-auth';
import { capOutboundBuffers, closedAsSlowConsumer, type OutboundStats } from './outbound-cap';
import { disconnectedForFlooding, eventGuard } from './event-guard';
import { commonActions } from './namespaces/common';
import { namespaceModules } from './namespaces/registry';
import { attachPresence, trackSocket } from './presence-hooks';
import { namespaceOf, type GatewayServer } from './socket-types';

const log = logger('gateway');

/** `ready()`: Redis commands work and the adapter subscriber receives. */
export interface Gateway extends RunningProcess<GatewayMetrics, Readiness> {
  readonly io: GatewayServer;
  readonly http: HttpServer;
  readonly runtime: Runtime;
  readonly access: GatewayAccess;
  /** The port actually bound (useful with PORT=0). */
  readonly port: number;
  /** Slow-consumer disconnects so far (MAX_CLIENT_BUFFER_BYTES). */
  readonly outbound: OutboundStats;
}

/** What the gateway process hands its HTTP side: its metrics, readiness and room membership. */
export interface GatewayHttpHooks {
  metrics: GatewayMetrics;
  ready: () => Promise<Readiness>;
  membership: RoomMembership;
}

/**
 * What the composition root (src/app/gateway.ts) opens for a gateway: the runtime (its EventManager
 * counting into `metrics`), the metrics, and the HTTP app. The gateway closes the runtime it is
 * given, after its own presence (whose last transitions go through the runtime's EventManager).
 */
export interface GatewayParts {
  runtime: Runtime;
  metrics: GatewayMetrics;
  httpApp: HttpAppFactory;
}

/** The HTTP app (API, admin, console) on the gateway's port, made by the composition root (src/app/). */
export type HttpAppFactory = (rt: Runtime, hooks: GatewayHttpHooks) => RequestListener;

/**
 * Starts one gateway process's server: express and socket.io on one port, the Redis adapter so
 * broadcasts from any worker or gateway reach this process's sockets, and the namespace modules.
 */
export async function startGateway(
  config: Config,
  { runtime, metrics, httpApp }: GatewayParts,
): Promise<Gateway> {
  let sub: RedisClient | undefined;
  let pub: RedisClient | undefined;
  let access: GatewayAccess | undefined;
  try {
    access = await openAccess(runtime);
    // The adapter has a publisher and a subscriber of its own. Its publishes are fire-and-forget
    // (never awaited by socket.io), so a failed one is dropped and counted, never left unhandled.
    pub = dropFailedPublishes(
      await connectRedis(config, 'command', 'sb-adapter-pub', config.REDIS_CONNECT_TIMEOUT_MS),
      () => metrics.adapterPublishDropped(),
    );
    sub = await connectRedis(
      config,
      'subscriber',
      'sb-adapter-sub',
      config.REDIS_CONNECT_TIMEOUT_MS,
    );
    metrics.watchRedis(pub, 'adapter-pub');
    metrics.watchRedis(sub, 'adapter-sub');
    // Readiness: the subscriber also listens on a channel of this gateway's own, and /readyz hears
    // a probe published there come back (the adapter ignores channels that are not its own).
    const cluster = config.REDIS_MODE === 'cluster';
    const probe = await PubSubProbe.start(
      sub,
      runtime.redis,
      runtime.keys.readinessProbe(access.presence.gatewayId),
      cluster,
    );
    const ready = async (): Promise<Readiness> => {
      const [redis, pubsub] = await Promise.all([
        pingCheck(runtime.redis),
        watch.receiving ? probe.check() : 'down',
      ]);
      return readiness({ redis, pubsub });
    };
    metrics.observeDeployment({
      throttleWindows: () => runtime.events.throttle.indexSize(),
      queues: () => runtime.management.jobs.status(),
    });
    // `io` is made below, on this server; membership changes only reach it once requests arrive.
    const http = createServer(
      httpApp(runtime, { metrics, ready, membership: adapterMembership(() => io) }),
    );
    // Keep idle keep-alive connections longer than the clients and load balancers in front (60 s
    // is common): a server that closes first races a request on the same socket (ECONNRESET, 502).
    http.keepAliveTimeout = 65_000;
    http.headersTimeout = 66_000;
    const recovery = new Recovery(runtime, config.MAX_CLIENT_BUFFER_BYTES);
    const origins = originPolicy(config);
    const watch = new SubscriberWatch(sub, () =>
      NAMESPACES.flatMap((name) => [...namespaceOf(io, name).sockets.values()]),
    );
    const io: GatewayServer = new Server(http, {
      // socket.io closes a connection whose frame exceeds this; messages up to MAX_PAYLOAD_BYTES
      // pass, and those in between get a `payload_too_large` ack from the event guard instead.
      maxHttpBufferSize: config.MAX_PAYLOAD_BYTES * 4,
      // A connection that has joined no namespace within 10 s is closed (socket.io's default is
      // 45 s): one made only to be held open costs the gateway for no more than that.
      connectTimeout: 10_000,
      // Redis Cluster: the sharded adapter (SSUBSCRIBE per room channel, `dynamic`: a gateway hears
      // only the rooms its sockets are in), the format the workers SPUBLISH in.
      adapter: recovery.adapter(
        cluster
          ? createShardedAdapter(pub, sub, {
              channelPrefix: runtime.keys.adapterKey,
              subscriptionMode: 'dynamic',
            })
          : createAdapter(pub, sub, { key: runtime.keys.adapterKey }),
      ),
      // CORS headers on polling responses by the same rule as the handshake check below.
      cors: (req, answer) =>
        answer(null, { origin: origins(req.headers.origin, req.headers.host).allowed }),
      // CORS does not cover websockets: check the browser's Origin on every handshake ourselves
      // (originPolicy: same origin, local dev origins outside production, CORS_ORIGINS). A refusal's
      // text becomes the body of engine.io's answer (polling: 403 JSON `{ code: 4, message }`;
      // websocket upgrade: 400 with the text) and one warn line.
      // While the adapter subscriber is down, refuse handshakes (clients retry): see SubscriberWatch.
      allowRequest: (req, done) => {
        if (!watch.receiving) {
          done('adapter subscriber unavailable', false);
          return;
        }
        const verdict = origins(req.headers.origin, req.headers.host);
        if (!verdict.allowed)
          logRefusal('socket handshake', verdict, req.headers.origin, req.headers.host);
        done(verdict.allowed ? null : verdict.why, verdict.allowed);
      },
    });
    // The upgrade request is read during the handshake only (origin, auth); dropping engine.io's
    // reference frees it with its headers, as socket.io's memory guide suggests (~870 B a socket).
    io.engine.on('connection', (conn: { request: unknown }) => {
      conn.request = null;
    });
    const outbound: OutboundStats = { slowConsumerDisconnects: 0 };
    capOutboundBuffers(io.engine, config.MAX_CLIENT_BUFFER_BYTES, outbound);
    const gate = access;
    // MAX_CONNECTIONS_PER_USER across gateways, from presence's count (concurrent handshakes of
    // one user may pass it by the few that are checked before the first is counted).
    const max = config.MAX_CONNECTIONS_PER_USER;
    const admitUser = async (user: SocketUser): Promise<void> => {
      if (max === 0 || user.anonymous) return;
      if ((await gate.presence.socketsOf(user.id)) >= max)
        throw new GatewayError(
          'too_many_connections',
          `at most ${max} connections per user (MAX_CONNECTIONS_PER_USER): close one first`,
        );
    };
    for (const name of NAMESPACES) {
      const actions: Record<string, ActionDefinition> = {
        ...commonActions,
        ...namespaceModules[name].actions,
      };
      const nsp = namespaceOf(io, name);
      nsp.use(authenticate(gate.verifier, gate.revocations, config.AUTH_MODE, admitUser));
      attachPresence(nsp, gate.presence);
      metrics.trackNamespace(nsp, disconnectReason);
      // One counter hook per namespace, shared by its sockets (no closure per socket).
      const countAction = (action: string, result: string) =>
        metrics.clientAction(name, action, result);
      nsp.on('connection', (socket) => {
        // A handshake admitted just before the subscriber dropped must not stay on through the gap.
        if (!watch.receiving) {
          socket.conn.close();
          return;
        }
        trackSocket(socket, gate.presence);
        const expiresAt = socket.data.tokenExpiresAt;
        if (expiresAt !== undefined) gate.expiry.watch(socket, expiresAt);
        const user = userOf(socket);
        // Per-user delivery: where the catalog sends events to `user:{id}`, each socket of that user is in it.
        if (USER_ROOM_NAMESPACES.has(name) && !user.anonymous)
          void socket.join(roomOf(ROOMS.user, { userId: user.id }));
        bindActions(
          actions,
          { socket, nsp, deps: runtime, access: gate, recovery },
          eventGuard(socket, gate, config),
          countAction,
        );
      });
    }
    // The main namespace `/` serves nothing: refused, so no socket lives outside the authenticated,
    // counted namespaces. The engine connection that carried the refusal is closed by socket.io
    // after connectTimeout (below) unless it joins a namespace of ours.
    io.of('/').use((_socket, next) => {
      next(
        Object.assign(
          new Error('unknown namespace: connect to /social, /chat, /orders or /notification'),
          { data: { code: 'not_found' } },
        ),
      );
    });
    // The Socket.IO Admin UI's `/admin` namespace, only with ADMIN_UI=on (see admin-ui.ts).
    const adminUi = attachAdminUi(io, runtime);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen({ port: config.PORT, host: config.HOST, backlog: config.LISTEN_BACKLOG }, () =>
        resolve(),
      );
    });
    const port = (http.address() as AddressInfo).port;
    const subscriber = sub;
    const publisher = pub;
    // Idempotent: a second close() waits for the first.
    let closing: Promise<void> | undefined;
    return {
      io,
      http,
      runtime,
      access: gate,
      port,
      outbound,
      metrics,
      ready,
      close() {
        closing ??= (async () => {
          adminUi?.close();
          // io.close() stops accepting, then closes every transport without a socket.io DISCONNECT
          // packet: clients see "transport close" and reconnect (to another gateway behind the
          // load balancer). A server-side disconnect would tell them not to come back.
          const closed = new Promise<void>((resolve) => {
            void io.close(() => resolve());
          });
          http.closeIdleConnections();
          await closed;
          // Before the runtime: dropping this gateway's presence publishes offline transitions.
          await gate.close();
          await runtime.close();
          watch.stop();
          probe.stop();
          await closeRedis(subscriber);
          await closeRedis(publisher);
        })();
        return closing;
      },
    };
  } catch (err) {
    if (sub) await closeRedis(sub);
    if (pub) await closeRedis(pub);
    if (access) await access.close();
    await runtime.close();
    log.error({ err: (err as Error).message }, 'gateway failed to start');
    throw err;
  }
}

/** Why a socket went, for the disconnect metric: this gateway's own closes first, else socket.io's reason. */
function disconnectReason(socket: Socket, reason: string): string {
  if (closedAsSlowConsumer(socket.conn)) return SLOW_CONSUMER;
  if (disconnectedForFlooding(socket)) return RATE_LIMITED;
  return reason;
}
