import { isSafeSegment } from '../ids';
import type { RoomParamNames, RoomParams } from './define';

/**
 * Who may join a room of a kind (and look at its presence). Each names one rule of the room
 * authorizer (src/auth/room-authorizer.ts), which must have a rule for every name here.
 */
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

/**
 * Every kind of room, once: its template (where catalog events go, what a socket may join; a
 * template's `{params}` are filled from the emit target) and who may join it.
 */
export const ROOM_KINDS = {
  post: { template: 'post:{postId}', join: 'anyone' },
  order: { template: 'order:{orderId}', join: 'owner-or-admin' },
  user: { template: 'user:{userId}', join: 'self' },
  chat: { template: 'chat:{chatId}', join: 'members-once-listed' },
  presence: { template: 'presence', join: 'presence-viewers' },
  admin: { template: 'admin', join: 'admins' },
} as const satisfies Record<string, { template: string; join: JoinRule }>;

export type RoomKind = keyof typeof ROOM_KINDS;

/** The templates by kind: `ROOMS.post` is `'post:{postId}'`. */
export const ROOMS = Object.fromEntries(
  Object.entries(ROOM_KINDS).map(([kind, k]) => [kind, k.template]),
) as {
  readonly [K in RoomKind]: (typeof ROOM_KINDS)[K]['template'];
};

/** A template's params: `{postId}` in `post:{postId}`. */
export const ROOM_PARAM_RE = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** `roomParamNames('post:{postId}')` -> `['postId']`. */
export function roomParamNames<T extends string>(template: T): Array<RoomParamNames<T>> {
  return [...template.matchAll(ROOM_PARAM_RE)].map((m) => m[1] as RoomParamNames<T>);
}

/** `roomOf(ROOMS.post, { postId: '1' })` -> `'post:1'`. Params must be safe ids. */
export function roomOf<T extends string>(template: T, params: RoomParams<T>): string {
  return template.replace(ROOM_PARAM_RE, (_, key: string) => {
    const value = String((params as Record<string, string | number>)[key]);
    if (!isSafeSegment(value)) throw new Error(`unsafe room param ${key}=${JSON.stringify(value)}`);
    return value;
  });
}

const templateMatchers = new Map<string, RegExp>();

/**
 * The inverse of roomOf: `matchRoom(ROOMS.order, 'order:7')` -> `{ orderId: '7' }`; undefined for
 * a room of another shape. Each param must be a safe id, as roomOf requires.
 */
export function matchRoom(template: string, room: string): Record<string, string> | undefined {
  let re = templateMatchers.get(template);
  if (!re) {
    const pattern = template
      .split(ROOM_PARAM_RE)
      // split keeps the captured names at odd indexes, the literal text around them at even ones.
      .map((part, i) =>
        i % 2 === 1
          ? `(?<${part}>[A-Za-z0-9_.:@-]{1,128})`
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('');
    templateMatchers.set(template, (re = new RegExp(`^${pattern}$`)));
  }
  const match = re.exec(room);
  return match ? { ...match.groups } : undefined;
}
