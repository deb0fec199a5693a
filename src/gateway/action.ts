import type { z } from 'zod';
import { GatewayError, toGatewayError, type ErrorCode } from '../errors';
import { logger } from '../logger';
import type { Ack } from './ack';
import type { Runtime } from '../runtime';
import type { Recovery } from './recovery';
import type { GatewayAccess } from './access';
import type { GatewayNamespace, GatewaySocket } from './socket-types';

const log = logger('gateway');

/** What an action handler can use: the calling socket, its namespace, and the shared core. */
export interface ActionContext {
  socket: GatewaySocket;
  nsp: GatewayNamespace;
  deps: Runtime;
  /** Room authorization and presence. */
  access: Pick<GatewayAccess, 'rooms' | 'presence' | 'verifier' | 'expiry' | 'revocations'>;
  /** Re-join with `since`: replay of missed events (history in Redis). */
  recovery: Recovery;
}

export interface ActionDefinition<S extends z.ZodType = z.ZodType, R = unknown> {
  readonly schema: S;
  readonly handle: (input: z.output<S>, ctx: ActionContext) => R | Promise<R>;
  /**
   * False for actions that touch no shared state and need no Redis call (ping, typing): they are
   * answered at once instead of waiting behind the socket's earlier actions (a join on Redis).
   */
  readonly ordered: boolean;
  /** What the AsyncAPI document (src/specs/asyncapi.ts) says about the action. */
  readonly doc: ActionDoc;
}

export interface ActionDoc {
  /** One line for humans. */
  readonly description: string;
  /** The schema of the ack's `data` when `ok` (checked against the handler's result type). */
  readonly ack: z.ZodType;
  /** The room template the action is about, e.g. `post:{postId}`. */
  readonly room?: string;
}

export interface ActionOptions<R> {
  ordered?: boolean;
  description: string;
  ack: z.ZodType<Awaited<NoInfer<R>>>;
  room?: string;
}

/**
 * A client action: a zod schema for its payload (with `withExamples`, shown in the AsyncAPI
 * document), a handler whose result becomes the ack's data, and that data's schema.
 */
export function action<S extends z.ZodType, R>(
  schema: S,
  handle: (input: z.output<S>, ctx: ActionContext) => R | Promise<R>,
  options: ActionOptions<R>,
): ActionDefinition<S, R> {
  const { ordered = true, ...doc } = options;
  return { schema, handle, ordered, doc };
}

/** The tail of each socket's action chain: a socket's ordered actions run one at a time, in arrival order. */
const tails = new WeakMap<GatewaySocket, Promise<unknown>>();

/**
 * Routes every client event of a socket to its action with ONE listener (not one per action: at
 * 10,000 sockets, a closure and a listener entry per action and socket add up). Accepts
 * `(payload, ack)`, `(ack)` or `(payload)`; validates the payload; answers `{ ok, data }` or
 * `{ ok: false, error }`; an event the namespace has no action for, sent with an ack, is answered
 * `unknown_action`. Nothing a client sends can throw out of here: a missing ack only means the
 * answer is dropped.
 *
 * Ordered actions of one socket run in the order they arrived, each after the previous one
 * finished: a `join_x` followed by `get_rooms` always sees the room, even when the join waits on
 * Redis. Unordered ones (ping, typing) are answered at once.
 */
export function bindActions(
  actions: Readonly<Record<string, ActionDefinition>>,
  ctx: ActionContext,
  guard: PacketGuard,
  observe: ActionObserver = () => undefined,
): void {
  // socket.io calls catch-all listeners before its `socket.use` middlewares, so the guard (rate
  // limits, sizes) runs here, first, for every packet.
  ctx.socket.onAny((event: unknown, ...args: unknown[]) =>
    guard(
      [event, ...args],
      () => dispatch(actions, ctx, event, args, observe),
      (code) => observe(actionLabel(actions, event), code),
    ),
  );
}

/**
 * Admits a packet (`[event, ...args]`) by calling `next`, or answers its ack with the refusal
 * itself and tells `refused` its code.
 */
export type PacketGuard = (
  packet: unknown[],
  next: () => void,
  refused: (code: ErrorCode) => void,
) => void;

/**
 * Told the outcome of every client event (metrics): the action's name, or `unknown` for a name the
 * namespace has no action for (never the client's string), and `ok` or the error code.
 */
export type ActionObserver = (action: string, result: 'ok' | ErrorCode) => void;

function actionLabel(actions: Readonly<Record<string, ActionDefinition>>, event: unknown): string {
  return typeof event === 'string' && Object.hasOwn(actions, event) ? event : 'unknown';
}

function dispatch(
  actions: Readonly<Record<string, ActionDefinition>>,
  ctx: ActionContext,
  event: unknown,
  args: unknown[],
  observe: ActionObserver,
): void {
  {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (res: Ack<unknown>) => void) : undefined;
    const name = String(event);
    const def = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (!def) {
      observe('unknown', 'unknown_action');
      if (ack)
        reply(name, ack, {
          ok: false,
          error: new GatewayError(
            'unknown_action',
            `${ctx.nsp.name} has no action ${JSON.stringify(name.slice(0, 64))}`,
          ).toJSON(),
        });
      return;
    }
    const payload = ack && args.length === 1 ? undefined : args[0];
    let current: Promise<Ack<unknown>>;
    if (def.ordered) {
      const socket = ctx.socket;
      current = (tails.get(socket) ?? Promise.resolve()).then(() => run(name, def, payload, ctx));
      tails.set(socket, current);
      // An idle socket keeps no chain (nor its last ack) alive.
      void current.then(() => {
        if (tails.get(socket) === current) tails.delete(socket);
      });
    } else {
      current = run(name, def, payload, ctx);
    }
    void current.then((res) => {
      observe(name, res.ok ? 'ok' : res.error.code);
      if (ack) reply(name, ack, res);
    });
  }
}

function reply(name: string, ack: (res: Ack<unknown>) => void, res: Ack<unknown>): void {
  try {
    ack(res);
  } catch (err) {
    log.warn({ action: name, err: (err as Error).message }, 'ack failed');
  }
}

async function run(
  name: string,
  def: ActionDefinition,
  payload: unknown,
  ctx: ActionContext,
): Promise<Ack<unknown>> {
  try {
    const parsed = def.schema.safeParse(payload ?? {});
    if (!parsed.success)
      throw GatewayError.fromZod(parsed.error, 'invalid_payload', `${name} payload`);
    const data = await def.handle(parsed.data, ctx);
    return { ok: true, data: data ?? null };
  } catch (err) {
    const error = toGatewayError(err);
    if (error.code === 'internal') log.error({ action: name, err }, 'action failed');
    return { ok: false, error: error.toJSON() };
  }
}
