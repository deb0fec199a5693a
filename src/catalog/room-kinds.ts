/**
 * The room table: every kind of room, declared once. Everything else derives from it:
 * - the catalog (`ROOMS.post` is the template events target; a template's `{params}` are filled
 *   from the emit target),
 * - the namespace modules (`join_<kind>` and `leave_<kind>` in the kind's `namespace`; a kind
 *   without one is joined by no client action),
 * - the room authorizer (`join` names one of its rules; a rule it lacks does not compile),
 * - the client library (its per-namespace room table and `RoomOf` types),
 * - the EventManager's helpers (`emitTo<Kind>` for every kind with exactly one param).
 * Adding `team: { template: 'team:{teamId}', namespace: '/chat', join: 'members-once-listed' }`
 * is the whole change for a new kind. This file imports nothing at run time: the client library
 * runs it.
 */
import type { RoomParamNames } from './room-params';
import type { Namespace } from './namespaces';

/** Who may join a room of a kind (and look at its presence): one rule of the room authorizer each. */
export type JoinRule =
  /** Anyone, anonymous sockets too under AUTH_MODE=anonymous: public rooms. */
  | 'anyone'
  /** Only the user the room is named after (`user:{userId}`). */
  | 'self'
  /** The owner recorded by the API, or an admin. */
  | 'owner-or-admin'
  /** Any signed-in user while the room has no member list, then only its members. */
  | 'members-once-listed'
  /** Who may see presence (signed in; PRESENCE_ROLE when set). */
  | 'presence-viewers'
  /** Role admin. */
  | 'admins';

export interface RoomKindEntry {
  readonly template: string;
  /** The namespace whose clients join and leave it with `join_<kind>` / `leave_<kind>`. */
  readonly namespace?: Namespace;
  readonly join: JoinRule;
}

export const ROOM_KINDS = {
  post: { template: 'post:{postId}', namespace: '/social', join: 'anyone' },
  order: { template: 'order:{orderId}', namespace: '/orders', join: 'owner-or-admin' },
  user: { template: 'user:{userId}', namespace: '/notification', join: 'self' },
  chat: { template: 'chat:{chatId}', namespace: '/chat', join: 'members-once-listed' },
  presence: { template: 'presence', namespace: '/notification', join: 'presence-viewers' },
  admin: { template: 'admin', join: 'admins' },
} as const satisfies Record<string, RoomKindEntry>;

export type RoomKind = keyof typeof ROOM_KINDS;

/** The kinds a namespace's clients join, e.g. `'user' | 'presence'` for '/notification'. */
export type KindsIn<NS extends Namespace> = {
  [K in RoomKind]: (typeof ROOM_KINDS)[K] extends { namespace: NS } ? K : never;
}[RoomKind];

type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;

/** The kinds named by exactly one param (`post:{postId}`), which get an `emitTo<Kind>` helper. */
export type HelperKind = {
  [K in RoomKind]: [RoomParamNames<(typeof ROOM_KINDS)[K]['template']>] extends [never]
    ? never
    : true extends IsUnion<RoomParamNames<(typeof ROOM_KINDS)[K]['template']>>
      ? never
      : K;
}[RoomKind];

/** The one param of a helper kind's template: `'postId'` for `post`. */
export type HelperParam<K extends HelperKind> = RoomParamNames<(typeof ROOM_KINDS)[K]['template']>;

/** `emitToPost` for `post`. */
export type HelperName<K extends string> = `emitTo${Capitalize<K>}`;

/** A template's params: `{postId}` in `post:{postId}`. */
export const ROOM_PARAM_RE = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** `roomParamNames('post:{postId}')` -> `['postId']`. */
export function roomParamNames<T extends string>(template: T): Array<RoomParamNames<T>> {
  return [...template.matchAll(ROOM_PARAM_RE)].map((m) => m[1] as RoomParamNames<T>);
}

/** `helperName('post')` -> `'emitToPost'`. */
export function helperName<K extends string>(kind: K): HelperName<K> {
  return `emitTo${kind.charAt(0).toUpperCase()}${kind.slice(1)}` as HelperName<K>;
}
