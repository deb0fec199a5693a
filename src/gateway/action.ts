import type { Namespace as IoNamespace, Socket } from 'socket.io';
import type { z } from 'zod';
import { GatewayError, toGatewayError } from '../errors';
import { logger } from '../logger';
import type { Ack } from './ack';
import type { Runtime } from '../runtime';
import type { Recovery } from './recovery';
import type { GatewayAccess } from './access';

const log = logger('gateway');

/** What an action handler can use: the calling socket, its namespace, and the shared core. */
export interface ActionContext {
  socket: Socket;
  nsp: IoNamespace;
  deps: Runtime;
  /** Room authorization and presence. */
  access: Pick<GatewayAccess, 'rooms' | 'presence'>;
  /** Re-join with `since`: replay of missed events (history in Redis). */
  recovery: Recovery;
}

export interface ActionDefinition<S extends z.ZodType = z.ZodType, R = unknown> {
  readonly schema: S;
  readonly handle: (input: z.output<S>, ctx: ActionContext) => R | Promise<R>;
}

/** A client action: a zod schema for its payload and a handler whose result becomes the ack's data. */
export function action<S extends z.ZodType, R>(
  schema: S,
  handle: (input: z.output<S>, ctx: ActionContext) => R | Promise<R>,
): ActionDefinition<S, R> {
  return { schema, handle };
}

/** The tail of each socket's action chain: a socket's actions run one at a time, in arrival order. */
const tails = new WeakMap<Socket, Promise<unknown>>();

/**
 * Registers an action on a socket. Accepts `(payload, ack)`, `(ack)` or `(payload)`; validates the
 * payload; answers `{ ok, data }` or `{ ok: false, error }`. Nothing a client sends can throw out
 * of here: a missing ack only means the answer is dropped.
 *
 * Actions of one socket run in the order they arrived, each after the previous one finished: a
 * `join_x` followed by `get_rooms` always sees the room, even when the join waits on Redis.
 */
export function bindAction(name: string, def: ActionDefinition, ctx: ActionContext): void {
  ctx.socket.on(name, (...args: unknown[]) => {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (res: Ack<unknown>) => void) : undefined;
    const payload = ack && args.length === 1 ? undefined : args[0];
    const previous = tails.get(ctx.socket) ?? Promise.resolve();
    const current = previous.then(() => run(name, def, payload, ctx));
    tails.set(ctx.socket, current);
    void current.then((res) => {
      if (!ack) return;
      try {
        ack(res);
      } catch (err) {
        log.warn({ action: name, err: (err as Error).message }, 'ack failed');
      }
    });
  });
}

async function run(name: string, def: ActionDefinition, payload: unknown, ctx: ActionContext): Promise<Ack<unknown>> {
  try {
    const parsed = def.schema.safeParse(payload ?? {});
    if (!parsed.success) throw GatewayError.fromZod(parsed.error, 'invalid_payload', `${name} payload`);
    const data = await def.handle(parsed.data, ctx);
    return { ok: true, data: data ?? null };
  } catch (err) {
    const error = toGatewayError(err);
    if (error.code === 'internal') log.error({ action: name, err }, 'action failed');
    return { ok: false, error: error.toJSON() };
  }
}
