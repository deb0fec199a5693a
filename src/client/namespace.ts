import type { Manager, Socket } from 'socket.io-client';
import type { ErrorBody } from '../error-body';
import {
  DISCONNECT_REASON_EVENT,
  RECOVERY_INCOMPLETE_EVENT,
  SLOW_CONSUMER_CLOSE_CODE,
  SLOW_CONSUMER_REASON,
} from '../wire/protocol';
import { SwitchboardError } from './errors';
import { RoomState } from './room-state';
import { roomActions, type RoomOf } from './rooms';
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
  ServerDisconnectReason,
} from './types';

/** A `meta.offset` (a Redis stream id), as getState must answer. */
const OFFSET = /^\d{1,20}-\d{1,20}$/;

/** Ack codes worth asking again for: the gateway was busy or briefly without Redis. */
const RETRYABLE = new Set<string>(['rate_limited', 'unavailable', 'internal']);

/** Given to onRecoveryIncomplete when a room re-joined after a reconnect had no offset to recover from. */
export const NO_OFFSET_REASON =
  'no event seen in this room yet: events sent while disconnected cannot be replayed';

/**
 * How the gateway marks a slow consumer: it closes the websocket with code 4008 and reason
 * `slow_consumer` (src/gateway/outbound-cap.ts), or says `disconnect_reason { reason | code:
 * 'slow_consumer' }` before disconnecting the socket. Either is enough.
 */
export { SLOW_CONSUMER_CLOSE_CODE };
export const SLOW_CONSUMER = SLOW_CONSUMER_REASON;

type Ack = { ok: true; data: unknown } | { ok: false; error: ErrorBody };
type Callback =
  'onRecoveryIncomplete' | 'onSlowConsumer' | 'onDisconnect' | 'onConnect' | 'onError';
type Listener = (...args: unknown[]) => void;
interface Waiter {
  resolve(result: JoinResult): void;
  reject(error: Error): void;
}

/** What the client shares with each of its namespaces. */
export interface Shared {
  manager: Manager;
  options: ClientOptions;
  ackTimeoutMs: number;
  dedupeWindow: number;
  stats: ClientStats;
  /** The token for a (re)connect: one fetch shared by the namespaces connecting at that moment. */
  token(ns: Namespace): Promise<string | undefined>;
  url(): string;
}

function isMeta(value: unknown): value is { id: string; room: string; offset?: string } {
  const meta = value as { id?: unknown; room?: unknown } | null;
  return (
    typeof meta === 'object' &&
    meta !== null &&
    typeof meta.id === 'string' &&
    typeof meta.room === 'string'
  );
}

function isSlowConsumer(details: unknown, server: ServerDisconnectReason | undefined): boolean {
  if (server?.reason === SLOW_CONSUMER || server?.code === SLOW_CONSUMER) return true;
  const close = (details as { context?: { code?: unknown; reason?: unknown } } | undefined)
    ?.context;
  return (
    close?.code === SLOW_CONSUMER_CLOSE_CODE ||
    (typeof close?.reason === 'string' && close.reason.includes(SLOW_CONSUMER))
  );
}

/**
 * One namespace of a client: one socket.io socket (sharing the client's connection), the rooms the
 * application joined, and the events it listens to.
 *
 * After every reconnect it joins each joined room again with `since` = the room's last delivered
 * offset, so the gateway replays what was missed before anything live. Every event with a `meta`
 * passes its room's RoomState first: repeats are dropped, so the application sees each event once,
 * in the order the gateway sent it (room order).
 */
export class NamespaceClient<NS extends Namespace> {
  private readonly socket: Socket;
  private readonly rooms = new Map<string, RoomState>();
  /** Rooms whose join succeeded at least once (a reconnect may then have missed something). */
  private readonly joined = new Set<string>();
  /** The join awaiting its ack, per room (a number per send, so a stale ack is recognized). */
  private readonly inFlight = new Map<string, number>();
  private sends = 0;
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly anyListeners = new Set<(event: string, ...args: unknown[]) => void>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  /** Calls waiting for a connection: rejected by close(). */
  private readonly waitingCalls = new Set<(error: Error) => void>();
  private connectedBefore = false;
  private serverReason: ServerDisconnectReason | undefined;
  private refusals = 0;
  private closed = false;
  /** The token the current connection was made with, and the refresh scheduled before its exp. */
  private sentToken: string | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly ns: NS,
    private readonly shared: Shared,
  ) {
    this.socket = shared.manager.socket(ns, {
      // A function, so socket.io-client asks for the token again on every (re)connect. A token that
      // comes after its connection was replaced by another is dropped (that one asks for its own).
      auth: (send) => {
        const engine = shared.manager.engine;
        void shared.token(ns).then((token) => {
          if (shared.manager.engine !== engine) return;
          this.sentToken = token;
          send(token === undefined ? {} : { token });
        });
      },
    });
    this.socket.on('connect', () => this.onConnect());
    this.socket.on('disconnect', (reason, details) => this.onDisconnect(reason, details));
    this.socket.on('connect_error', (err) => this.onConnectError(err));
    this.socket.onAny((event: string, ...args: unknown[]) => this.onEvent(event, args));
    this.socket.connect();
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Listens to an event of this namespace; returns a function that stops listening. */
  on<E extends EventNameOf<NS>>(event: E, handler: HandlerOf<NS, E>): () => void {
    const set = this.listeners.get(event) ?? new Set<Listener>();
    this.listeners.set(event, set);
    const listener = handler as unknown as Listener;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Every event of this namespace (after de-duplication), e.g. for logging. */
  onAny(handler: (event: string, ...args: unknown[]) => void): () => void {
    this.anyListeners.add(handler);
    return () => void this.anyListeners.delete(handler);
  }

  /**
   * Joins a room through the namespace's join action, and again after every reconnect until
   * `leave`. Resolves with the ack's data; rejects with a SwitchboardError if the gateway refuses
   * (`forbidden`, `invalid_payload`, ...). Busy answers (`rate_limited`, `unavailable`) and lost
   * acks are retried; while disconnected, the join waits for the connection.
   */
  join(room: RoomOf<NS>, options: JoinOptions = {}): Promise<JoinResult> {
    if (this.closed) return Promise.reject(closedError());
    const { rewind, getState } = options;
    if (rewind !== undefined && (!Number.isInteger(rewind) || rewind < 0 || rewind > 100))
      return Promise.reject(new SwitchboardError('invalid_argument', 'rewind must be 0-100'));
    try {
      roomActions(this.ns, room);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const state = this.stateOf(room);
    state.tracked = true;
    if (getState) state.getState = getState;
    if (rewind !== undefined) state.rewind = rewind;
    return new Promise<JoinResult>((resolve, reject) => {
      const list = this.waiters.get(room) ?? [];
      this.waiters.set(room, list);
      list.push({ resolve, reject });
      if (state.getState && state.lastOffset === undefined) this.loadState(state);
      else this.sendJoin(state);
    });
  }

  /** Leaves a room: no more re-joins, and its offset and remembered ids are forgotten. */
  async leave(room: RoomOf<NS>): Promise<{ room: string }> {
    const { leave, payload } = roomActions(this.ns, room);
    const state = this.rooms.get(room);
    if (state) state.tracked = false;
    this.joined.delete(room);
    this.inFlight.delete(room);
    this.settle(
      room,
      undefined,
      new SwitchboardError('not_joined', `left ${room} before its join completed`),
    );
    try {
      // Not connected: the gateway dropped the membership with the connection, and no re-join follows.
      if (!this.socket.connected) return { room };
      return (await this.call(leave as ActionNameOf<NS>, payload)) as { room: string };
    } finally {
      // Events sent before the leave's ack were delivered; none come after it.
      if (this.rooms.get(room) === state && !state?.tracked) this.rooms.delete(room);
    }
  }

  /**
   * Calls any action of the namespace (`get_rooms`, `ping`, `new_message`, ...) and resolves with
   * the ack's data, or rejects with a SwitchboardError. Waits up to ackTimeoutMs for a connection.
   * `rate_limited` (refused before it ran) is asked again after `retryAfterMs` within ackTimeoutMs;
   * nothing else is retried: after a disconnect mid-call it rejects with `unavailable` (the gateway
   * may or may not have run it).
   */
  async call<A extends ActionNameOf<NS>>(
    action: A,
    payload?: PayloadOfAction<NS, A>,
  ): Promise<ResultOfAction<NS, A>> {
    const timeoutMs = this.shared.ackTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.connection(timeoutMs);
      const ack = await new Promise<Ack>((resolve, reject) => {
        this.socket
          .timeout(timeoutMs)
          .emit(action, payload ?? {}, (err: Error | null, res: Ack) => {
            if (err)
              reject(
                new SwitchboardError(
                  'unavailable',
                  `${this.ns} ${action}: no answer (${err.message})`,
                ),
              );
            else resolve(res);
          });
      });
      if (ack.ok) return ack.data;
      const wait = ack.error.retryAfterMs ?? 0;
      if (ack.error.code !== 'rate_limited' || this.closed || Date.now() + wait > deadline)
        throw SwitchboardError.from(ack.error);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** The rooms joined by the application (re-joined after reconnects). */
  joinedRooms(): string[] {
    return [...this.rooms.values()].filter((s) => s.tracked).map((s) => s.room);
  }

  /** The last offset delivered in a room: what the next re-join passes as `since`. */
  lastOffset(room: string): string | undefined {
    return this.rooms.get(room)?.lastOffset;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.refreshTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const room of [...this.waiters.keys()]) this.settle(room, undefined, closedError());
    for (const fail of [...this.waitingCalls]) fail(closedError());
    this.socket.disconnect();
  }

  private stateOf(room: string): RoomState {
    let state = this.rooms.get(room);
    if (!state) {
      state = new RoomState(room, this.shared.dedupeWindow);
      this.rooms.set(room, state);
    }
    return state;
  }

  /**
   * Asks the application where its state of the room is (getState), then joins from there. A
   * failed getState is reported (onError) and asked again after a second.
   */
  private loadState(state: RoomState): void {
    const { getState } = state;
    if (!getState || state.loadingState) return;
    state.loadingState = true;
    getState().then(
      (offset) => {
        state.loadingState = false;
        if (!OFFSET.test(offset)) {
          this.notify(
            'onError',
            this.ns,
            new SwitchboardError(
              'invalid_argument',
              `getState answered ${JSON.stringify(offset)}, not a meta.offset`,
            ),
            state.room,
          );
          return;
        }
        // The application's state stands at `offset`: what follows it is replayed and nothing before.
        state.lastOffset = offset;
        this.inFlight.delete(state.room);
        this.sendJoin(state);
      },
      (err: unknown) => {
        state.loadingState = false;
        this.notify(
          'onError',
          this.ns,
          err instanceof Error ? err : new Error(String(err)),
          state.room,
        );
        this.later(() => this.loadState(state), 1000);
      },
    );
  }

  private sendJoin(state: RoomState): void {
    const { room } = state;
    if (this.closed || !this.socket.connected || this.inFlight.has(room)) return; // the next connect joins
    if (state.loadingState) return; // joins once getState answered
    const actions = roomActions(this.ns, room);
    const since = actions.recoverable ? state.lastOffset : undefined;
    const send = ++this.sends;
    this.inFlight.set(room, send);
    // `since` wins over `rewind`; a rewind is asked once, on the first join.
    const payload =
      since !== undefined
        ? { ...actions.payload, since }
        : state.rewind
          ? { ...actions.payload, rewind: state.rewind }
          : actions.payload;
    this.socket
      .timeout(this.shared.ackTimeoutMs)
      .emit(actions.join, payload, (err: Error | null, ack: Ack) => {
        // Disconnected or left meanwhile: the next connect joins again, or nothing is wanted.
        if (this.inFlight.get(room) !== send || this.rooms.get(room) !== state || !state.tracked)
          return;
        this.inFlight.delete(room);
        if (err) {
          this.later(() => this.sendJoin(state), 500); // no ack in time: ask again
          return;
        }
        if (ack.ok) {
          const result = ack.data as JoinResult;
          this.joined.add(room);
          state.rewind = undefined;
          // The room's position: a room without events yet is still recoverable from it.
          if (state.lastOffset === undefined && typeof result.offset === 'string')
            state.lastOffset = result.offset;
          this.settle(room, result);
          // The history could not cover the gap: with getState, reload from the state's position.
          if (result.incomplete && state.getState) this.loadState(state);
        } else if (RETRYABLE.has(ack.error.code)) {
          this.later(() => this.sendJoin(state), ack.error.retryAfterMs ?? 1000);
        } else {
          // Refused for good (e.g. `forbidden` after a permission change): stop re-joining it.
          this.rooms.delete(room);
          this.joined.delete(room);
          const error = SwitchboardError.from(ack.error);
          if (!this.settle(room, undefined, error)) this.notify('onError', this.ns, error, room);
        }
      });
  }

  /** Resolves or rejects the pending `join` calls of a room; false if there were none. */
  private settle(room: string, result: JoinResult | undefined, error?: Error): boolean {
    const list = this.waiters.get(room);
    this.waiters.delete(room);
    for (const w of list ?? []) {
      if (error) w.reject(error);
      else w.resolve(result as JoinResult);
    }
    return (list?.length ?? 0) > 0;
  }

  private onConnect(): void {
    this.refusals = 0;
    this.serverReason = undefined;
    this.inFlight.clear();
    this.shared.stats.connects++;
    const reconnect = this.connectedBefore;
    this.connectedBefore = true;
    this.notify('onConnect', this.ns, this.shared.url());
    this.scheduleRefresh(expiryOf(this.sentToken));
    for (const state of [...this.rooms.values()]) {
      if (!state.tracked) continue;
      // Joined, but nothing delivered yet: there is no offset to ask the gateway for what was missed.
      if (
        reconnect &&
        this.joined.has(state.room) &&
        state.lastOffset === undefined &&
        roomActions(this.ns, state.room).recoverable
      ) {
        this.notify('onRecoveryIncomplete', state.room, NO_OFFSET_REASON, this.ns);
      }
      this.sendJoin(state);
    }
  }

  /**
   * Refreshes the connection's token ahead of its `exp`, at 70-85 % of what is left (random, so the
   * clients that connected together do not all ask the identity provider at once), through the
   * `token` function. Only with a token function: a fixed token cannot be renewed. A refused
   * refresh is reported (onError); the gateway then closes the socket at expiry and the
   * reconnect asks for a fresh token anyway.
   */
  private scheduleRefresh(expiresAt: number | undefined): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    if (expiresAt === undefined || typeof this.shared.options.token !== 'function' || this.closed)
      return;
    const left = Math.max(0, expiresAt - Date.now());
    this.refreshTimer = setTimeout(() => void this.refresh(), left * (0.7 + Math.random() * 0.15));
  }

  private async refresh(): Promise<void> {
    const token = await this.shared.token(this.ns);
    if (token === undefined || !this.socket.connected || this.closed) return;
    try {
      const { expiresAt } = (await this.call('refresh_token', {
        token,
      })) as { expiresAt: number };
      this.sentToken = token;
      this.shared.stats.refreshes++;
      this.scheduleRefresh(expiresAt);
    } catch (err) {
      this.notify('onError', this.ns, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onDisconnect(reason: string, details: unknown): void {
    clearTimeout(this.refreshTimer);
    this.inFlight.clear(); // their acks will not come; the next connect joins again
    const server = this.serverReason;
    this.serverReason = undefined;
    this.notify('onDisconnect', this.ns, reason, details, server);
    if (isSlowConsumer(details, server)) this.notify('onSlowConsumer', this.ns);
    // A socket.io DISCONNECT from the gateway stops socket.io-client's own reconnection: connect again.
    if (reason === 'io server disconnect') this.retryConnect();
  }

  private onConnectError(err: Error): void {
    this.notify('onError', this.ns, err);
    // socket.active: the connection failed and socket.io-client retries by itself. Otherwise the
    // gateway refused the CONNECT (bad or expired token, ...): try again, with a fresh token.
    if (!this.socket.active) this.retryConnect();
  }

  private retryConnect(): void {
    const { manager } = this.shared;
    const delay = Math.min(
      manager.reconnectionDelayMax(),
      manager.reconnectionDelay() * 2 ** this.refusals++,
    );
    this.later(() => {
      if (!this.socket.connected) this.socket.connect();
    }, delay);
  }

  private onEvent(event: string, args: unknown[]): void {
    if (event === RECOVERY_INCOMPLETE_EVENT) {
      const { room, reason } = (args[0] ?? {}) as { room?: unknown; reason?: unknown };
      // A room with getState reloads its state instead (when the join's ack says incomplete).
      if (typeof room === 'string' && this.rooms.get(room)?.getState) return;
      this.notify(
        'onRecoveryIncomplete',
        typeof room === 'string' ? room : '',
        typeof reason === 'string' ? reason : '',
        this.ns,
      );
    } else if (event === DISCONNECT_REASON_EVENT) {
      this.serverReason = args[0] ?? {};
    } else if (isMeta(args[1])) {
      if (!this.stateOf(args[1].room).admit(args[1])) {
        this.shared.stats.duplicates++;
        return;
      }
      this.shared.stats.delivered++;
    }
    for (const listener of [...(this.listeners.get(event) ?? [])]) deliver(listener, args);
    for (const listener of [...this.anyListeners]) deliver(listener, [event, ...args]);
  }

  /** Calls an application callback; one that throws does not break the library's own handling. */
  private notify<K extends Callback>(
    name: K,
    ...args: Parameters<NonNullable<ClientOptions[K]>>
  ): void {
    const callback = this.shared.options[name];
    if (callback) deliver(callback, args);
  }

  private connection(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.socket.off('connect', onConnect);
        this.waitingCalls.delete(done);
        if (error) reject(error);
        else resolve();
      };
      const onConnect = () => done();
      const timer = setTimeout(
        () =>
          done(
            new SwitchboardError('unavailable', `${this.ns}: not connected within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      this.socket.once('connect', onConnect);
      this.waitingCalls.add(done);
    });
  }

  private later(fn: () => void, ms: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(timer);
  }
}

/** An application handler that throws must not stop delivery to the others: rethrow it on its own. */
function deliver(listener: (...args: never[]) => void, args: unknown[]): void {
  try {
    (listener as (...a: unknown[]) => void)(...args);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

function closedError(): SwitchboardError {
  return new SwitchboardError('unavailable', 'the client is closed');
}

/** A JWT's `exp` in ms, read without verifying (the gateway verifies); undefined if unreadable. */
function expiryOf(token: string | undefined): number | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
