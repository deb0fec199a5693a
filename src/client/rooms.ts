import type { RoomParamNames } from '../catalog/room-params';
import { NAMESPACES, type Namespace } from '../catalog/namespaces';
import {
  ROOM_KINDS as CATALOG_KINDS,
  roomParamNames,
  type KindsIn,
  type RoomKind,
  type RoomKindEntry,
} from '../catalog/room-kinds';
import type { ClientActionsOf } from './contract';
import { SwitchboardError } from './errors';

type ActionsOf<NS extends Namespace> = keyof ClientActionsOf<NS> & string;
type JoinsOf<NS extends Namespace> = ActionsOf<NS> & `join_${string}`;
type PayloadKeys<NS extends Namespace, A extends ActionsOf<NS>> = keyof Parameters<
  ClientActionsOf<NS>[A]
>[0] &
  string;

/** One kind of room as the client joins it: its actions and, for `kind:id` rooms, the id's field. */
interface ClientRoomKind {
  readonly join: string;
  readonly leave: string;
  readonly param?: string;
}

type Kinds = typeof CATALOG_KINDS;
type ParamOf<K extends RoomKind> = RoomParamNames<Kinds[K]['template']>;

/** A namespace's kinds as the client sees them, derived from the room table. */
type ClientKindsOf<NS extends Namespace> = {
  readonly [K in KindsIn<NS>]: { readonly join: `join_${K}`; readonly leave: `leave_${K}` } & ([
    ParamOf<K>,
  ] extends [never]
    ? unknown
    : { readonly param: ParamOf<K> });
};

/**
 * The rooms a client can join, per namespace, and the actions that do it, derived from the room
 * table (src/catalog/room-kinds.ts, which the library runs: it imports nothing).
 */
export const ROOM_KINDS = Object.fromEntries(
  NAMESPACES.map((ns) => [
    ns,
    Object.fromEntries(
      (Object.entries(CATALOG_KINDS) as Array<[string, RoomKindEntry]>)
        .filter(([, entry]) => entry.namespace === ns)
        .map(([kind, entry]): [string, ClientRoomKind] => {
          const params = roomParamNames(entry.template);
          const actions = { join: `join_${kind}`, leave: `leave_${kind}` };
          return [kind, params.length === 0 ? actions : { ...actions, param: params[0] }];
        }),
    ),
  ]),
) as { readonly [NS in Namespace]: ClientKindsOf<NS> };

/**
 * The derived actions are the namespace modules' own: an action or id field renamed on the server
 * (or a kind whose namespace module has no such action) fails to compile here.
 */
type Checked<NS extends Namespace> = {
  [K in KindsIn<NS>]: {
    join: ClientKindsOf<NS>[K]['join'] & JoinsOf<NS>;
    leave: ClientKindsOf<NS>[K]['leave'] & ActionsOf<NS>;
  } & (ClientKindsOf<NS>[K] extends { param: infer P }
    ? { param: P & Exclude<PayloadKeys<NS, ClientKindsOf<NS>[K]['join'] & JoinsOf<NS>>, 'since'> }
    : unknown);
};
export type RoomTableMatchesServer = {
  [NS in Namespace]: ClientKindsOf<NS> extends Checked<NS> ? true : false;
}[Namespace];
type Assert<T extends true> = T;
type _RoomTableChecked = Assert<RoomTableMatchesServer>;

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
