import type { Namespace } from '../catalog/define';
import type { ClientActionsOf } from '../gateway/namespaces/registry';
import { SwitchboardError } from './errors';

type ActionsOf<NS extends Namespace> = keyof ClientActionsOf<NS> & string;
type JoinsOf<NS extends Namespace> = ActionsOf<NS> & `join_${string}`;
type PayloadKeys<NS extends Namespace, A extends ActionsOf<NS>> = keyof Parameters<
  ClientActionsOf<NS>[A]
>[0] &
  string;

/** One kind of room: its join and leave actions and, for `kind:id` rooms, the payload field of the id. */
type RoomKind<NS extends Namespace> = {
  [J in JoinsOf<NS>]: {
    join: J;
    leave: ActionsOf<NS> & `leave_${string}`;
    param?: Exclude<PayloadKeys<NS, J>, 'since'>;
  };
}[JoinsOf<NS>];

/**
 * The rooms a client can join, per namespace, and the actions that do it (the same table as the
 * README's "Client actions"). Checked against the namespace modules' types: an action or payload
 * field renamed on the server fails to compile here.
 */
export const ROOM_KINDS = {
  '/social': { post: { join: 'join_post', leave: 'leave_post', param: 'postId' } },
  '/chat': { chat: { join: 'join_chat', leave: 'leave_chat', param: 'chatId' } },
  '/orders': { order: { join: 'join_order', leave: 'leave_order', param: 'orderId' } },
  '/notification': {
    user: { join: 'join_user', leave: 'leave_user', param: 'userId' },
    presence: { join: 'join_presence', leave: 'leave_presence' },
  },
} as const satisfies { [NS in Namespace]: Record<string, RoomKind<NS>> };

type KindsOf<NS extends Namespace> = (typeof ROOM_KINDS)[NS];

/** The room names of a namespace, e.g. `order:${string}` on /orders, `user:${string}` | 'presence' on /notification. */
export type RoomOf<NS extends Namespace> = {
  [K in keyof KindsOf<NS> & string]: KindsOf<NS>[K] extends { param: string }
    ? `${K}:${string}`
    : K;
}[keyof KindsOf<NS> & string];

export interface RoomActions {
  join: string;
  leave: string;
  /** The join/leave payload without `since`, e.g. `{ orderId: '42' }` for `order:42`. */
  payload: Record<string, string>;
  /** Whether the join takes `since` (rooms with an id do; `presence` does not keep history). */
  recoverable: boolean;
}

/** `roomActions('/orders', 'order:42')` -> `{ join: 'join_order', leave: 'leave_order', payload: { orderId: '42' } }`. */
export function roomActions(ns: string, room: string): RoomActions {
  const kinds = (
    ROOM_KINDS as Record<string, Record<string, { join: string; leave: string; param?: string }>>
  )[ns];
  if (!kinds)
    throw new SwitchboardError(
      'invalid_argument',
      `unknown namespace ${ns} (one of ${Object.keys(ROOM_KINDS).join(', ')})`,
    );
  const colon = room.indexOf(':');
  const kindName = colon < 0 ? room : room.slice(0, colon);
  const kind = Object.hasOwn(kinds, kindName) ? kinds[kindName] : undefined;
  const id = colon < 0 ? undefined : room.slice(colon + 1);
  if (kind && kind.param && id)
    return { join: kind.join, leave: kind.leave, payload: { [kind.param]: id }, recoverable: true };
  if (kind && !kind.param && id === undefined)
    return { join: kind.join, leave: kind.leave, payload: {}, recoverable: false };
  const examples = Object.entries(kinds).map(([name, k]) => (k.param ? `${name}:<id>` : name));
  throw new SwitchboardError(
    'invalid_argument',
    `${ns} has no room like ${room} (try ${examples.join(', ')})`,
  );
}
