/**
 * Switchboard's client library (`@switchboard/client`), for browsers (ESM) and Node (CJS):
 *
 *   const sb = createClient({ url: 'https://rt.example.com', token: () => fetchToken() });
 *   sb.on('/orders', 'order_status_changed', (data, meta) => render(data));
 *   await sb.join('/orders', 'order:42');
 *
 * Reconnects, re-joins every joined room with `since` = its last offset, de-duplicates by
 * `meta.id` and delivers in room order, without application code. Types come from the catalog;
 * nothing of the server is imported at runtime (only socket.io-client), so a bundle stays small.
 */
import { Manager } from 'socket.io-client';
import { SwitchboardError } from './errors';
import { NamespaceClient, type Shared } from './namespace';
import { ROOM_KINDS, type RoomOf } from './rooms';
import type {
  ActionNameOf,
  ClientOptions,
  ClientStats,
  EventNameOf,
  HandlerOf,
  JoinOptions,
  JoinResult,
  Namespace,
  PayloadOfAction,
  ResultOfAction,
} from './types';

export { SwitchboardError } from './errors';
export {
  NamespaceClient,
  NO_OFFSET_REASON,
  SLOW_CONSUMER,
  SLOW_CONSUMER_CLOSE_CODE,
} from './namespace';
export { compareOffsets } from './room-state';
export { ROOM_KINDS, roomActions, type RoomActions, type RoomOf } from './rooms';
export type * from './types';
export type {
  SocialSocket,
  ChatSocket,
  OrdersSocket,
  NotificationSocket,
  ServerEventsOf,
  DeliveredData,
} from './socket-types';

const DEFAULT_DEDUPE_WINDOW = 2000;
const DEFAULT_ACK_TIMEOUT_MS = 10_000;

export function createClient(options: ClientOptions): SwitchboardClient {
  return new SwitchboardClient(options);
}

/**
 * A client of one Switchboard deployment: one connection (one websocket, shared by the
 * namespaces, as socket.io multiplexes them) that reconnects by itself, to the next URL of
 * `options.url` on each attempt.
 */
export class SwitchboardClient {
  readonly stats: ClientStats = { delivered: 0, duplicates: 0, connects: 0, refreshes: 0 };
  private readonly manager: Manager;
  private readonly spaces = new Map<Namespace, NamespaceClient<Namespace>>();
  private readonly shared: Shared;
  private attempt = 0;
  private currentUrl: string;
  private pendingToken: Promise<string> | undefined;
  private closed = false;

  constructor(private readonly options: ClientOptions) {
    const dedupeWindow = options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW;
    if (!Number.isInteger(dedupeWindow) || dedupeWindow < 1)
      throw new SwitchboardError('invalid_argument', 'dedupeWindow must be a positive integer');
    this.currentUrl = this.urlFor(0);
    this.manager = new Manager(this.currentUrl, {
      transports: ['websocket'],
      ...options.socket,
      autoConnect: false,
    });
    // socket.io-client opens every reconnect attempt with the Manager's `uri` (a plain field its
    // typings mark private): point it at the next gateway first.
    this.manager.on('reconnect_attempt', () => {
      this.currentUrl = this.urlFor(++this.attempt);
      (this.manager as unknown as { uri: string }).uri = this.currentUrl;
    });
    this.shared = {
      manager: this.manager,
      options,
      dedupeWindow,
      ackTimeoutMs: options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS,
      stats: this.stats,
      token: (ns) => this.token(ns),
      url: () => this.currentUrl,
    };
    for (const ns of options.namespaces ?? []) this.namespace(ns);
  }

  /** The namespace's client, connecting it on first use. */
  namespace<NS extends Namespace>(ns: NS): NamespaceClient<NS> {
    if (this.closed) throw new SwitchboardError('unavailable', 'the client is closed');
    let space = this.spaces.get(ns);
    if (!space) {
      if (!Object.hasOwn(ROOM_KINDS, ns))
        throw new SwitchboardError('invalid_argument', `unknown namespace ${ns}`);
      space = new NamespaceClient<Namespace>(ns, this.shared);
      this.spaces.set(ns, space);
    }
    return space as unknown as NamespaceClient<NS>;
  }

  /**
   * `join('/orders', 'order:42')` -> `join_order { orderId: '42' }`, and again after every
   * reconnect. `{ rewind: n }` sends the room's last n events first; `{ getState }` joins from the
   * position the application's own state is at (see JoinOptions).
   */
  async join<NS extends Namespace>(
    ns: NS,
    room: RoomOf<NS>,
    options: JoinOptions = {},
  ): Promise<JoinResult> {
    return this.namespace(ns).join(room, options);
  }

  async leave<NS extends Namespace>(ns: NS, room: RoomOf<NS>): Promise<{ room: string }> {
    return this.namespace(ns).leave(room);
  }

  on<NS extends Namespace, E extends EventNameOf<NS>>(
    ns: NS,
    event: E,
    handler: HandlerOf<NS, E>,
  ): () => void {
    return this.namespace(ns).on(event, handler);
  }

  async call<NS extends Namespace, A extends ActionNameOf<NS>>(
    ns: NS,
    action: A,
    payload?: PayloadOfAction<NS, A>,
  ): Promise<ResultOfAction<NS, A>> {
    return this.namespace(ns).call(action, payload);
  }

  /** The gateway URL in use (or being tried). */
  get url(): string {
    return this.currentUrl;
  }

  /** Closes every namespace and the connection; pending joins and calls reject with `unavailable`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.manager.reconnection(false);
    for (const space of this.spaces.values()) space.close();
  }

  private urlFor(attempt: number): string {
    const { url } = this.options;
    if (typeof url === 'string') return url;
    if (typeof url === 'function') return url(attempt);
    if (url.length === 0)
      throw new SwitchboardError('invalid_argument', 'url: give at least one gateway URL');
    return url[attempt % url.length] as string;
  }

  private token(ns: Namespace): Promise<string | undefined> {
    const { token } = this.options;
    if (typeof token !== 'function') return Promise.resolve(token);
    this.pendingToken ??= Promise.resolve()
      .then(token)
      .finally(() => (this.pendingToken = undefined));
    return this.pendingToken.catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      queueMicrotask(() => this.options.onError?.(ns, error)); // on its own: a throwing callback must not stall the connect
      return undefined;
    });
  }
}
