import { Gauge, Histogram } from 'prom-client';
import type { Namespace as IoNamespace, Socket } from 'socket.io';
import { ProcessMetrics } from './process-metrics';
import { HTTP_BUCKETS, PREFIX } from './registry';
import { SLOW_CONSUMER_REASON } from '../wire/protocol';

/** socket.io's disconnect reasons; anything else (a future version's) is counted as `other`. */
const SOCKET_IO_REASONS: ReadonlySet<string> = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'parse error',
  'server shutting down',
  'forced server close',
  'client namespace disconnect',
  'server namespace disconnect',
]);

/** HTTP methods counted by name; anything else (a client's invention) is `other`. */
const HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

/** `2xx`, `4xx`, ...: one series per class keeps a histogram small (the counter has the codes). */
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** Our own reasons, which replace the socket.io reason of the same disconnect. */
export const SLOW_CONSUMER = SLOW_CONSUMER_REASON;
export const RATE_LIMITED = 'rate_limited';

/**
 * The metrics of one gateway process, on a registry of its own. Each method is one hook the
 * gateway wires in; labels are namespace names, catalog event names, action names of the
 * namespace modules, error codes and express route patterns: never rooms, users or ids.
 */
export class GatewayMetrics extends ProcessMetrics {
  private readonly namespaces: IoNamespace[] = [];

  private readonly accepted = this.counter(
    'events_accepted_total',
    'Events the EventManager accepted (stored for delivery, immediate or into a throttle window)',
    ['event'],
  );

  private readonly disconnects = this.counter(
    'socket_disconnects_total',
    "Socket disconnects by reason: socket.io's reasons, slow_consumer (MAX_CLIENT_BUFFER_BYTES), rate_limited (flooding)",
    ['reason'],
  );

  private readonly actions = this.counter(
    'client_actions_total',
    'Client actions by namespace, action and result (ok or the error code); unknown action names count as action="unknown"',
    ['namespace', 'action', 'result'],
  );

  private readonly http = this.counter(
    'http_requests_total',
    'HTTP requests by express route pattern (unmatched: answered before or without a route) and status',
    ['route', 'status'],
  );

  private readonly httpDuration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'Seconds from a request reaching the HTTP app to its answer sent, by method, express route pattern (unmatched: no route) and status class',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  private readonly droppedPublishes = this.counter(
    'adapter_publish_dropped_total',
    "Broadcasts this gateway's adapter could not publish to the other gateways while Redis was unavailable (its own sockets got them)",
  );

  constructor() {
    super();
    const namespaces = this.namespaces;
    new Gauge({
      name: `${PREFIX}sockets_connected`,
      help: 'Sockets connected to this gateway, per namespace',
      labelNames: ['namespace'] as const,
      registers: [this.registry],
      collect() {
        for (const nsp of namespaces) this.set({ namespace: nsp.name }, nsp.sockets.size);
      },
    });
  }

  /** Hook of the EventManager: one event accepted. */
  eventAccepted(event: string): void {
    this.accepted.inc({ event });
  }

  /**
   * Counts the namespace's sockets (on scrape) and each disconnect with its reason: `why` is the
   * gateway's reading of it (its own closes: SLOW_CONSUMER, RATE_LIMITED; else socket.io's reason).
   */
  trackNamespace(nsp: IoNamespace, why: (socket: Socket, reason: string) => string): void {
    this.namespaces.push(nsp);
    const disconnects = this.disconnects;
    // One listener function for every socket (no closure per socket).
    function onDisconnect(this: Socket, reason: string): void {
      disconnects.inc({ reason: boundedReason(why(this, reason)) });
    }
    nsp.on('connection', (socket: Socket) => socket.on('disconnect', onDisconnect));
  }

  /** Hook of the adapter's publisher: one broadcast not published (Redis unavailable). */
  adapterPublishDropped(): void {
    this.droppedPublishes.inc();
  }

  /** Hook of the action dispatcher: `result` is `ok` or the error code. */
  clientAction(namespace: string, action: string, result: string): void {
    this.actions.inc({ namespace, action, result });
  }

  /** Hook of the HTTP app, once per answered request: `route` is a pattern, never the raw URL. */
  httpRequest(route: string, status: number, method: string, seconds: number): void {
    this.http.inc({ route, status: String(status) });
    this.httpDuration.observe(
      {
        method: HTTP_METHODS.has(method) ? method : 'other',
        route,
        status_class: STATUS_CLASSES[Math.floor(status / 100) - 1] ?? 'other',
      },
      seconds,
    );
  }
}

/** A label from a fixed list, whatever a caller passes. */
function boundedReason(reason: string): string {
  return reason === SLOW_CONSUMER || reason === RATE_LIMITED || SOCKET_IO_REASONS.has(reason)
    ? reason
    : 'other';
}
