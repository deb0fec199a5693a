import { isSafeSegment } from '../ids';
import type { RoomParams } from './define';

import { ROOM_KINDS, ROOM_PARAM_RE, type RoomKind } from './room-kinds';

export {
  ROOM_KINDS,
  ROOM_PARAM_RE,
  roomParamNames,
  type JoinRule,
  type RoomKind,
  type RoomKindEntry,
} from './room-kinds';

/** The templates by kind: `ROOMS.post` is `'post:{postId}'`. */
export const ROOMS = Object.fromEntries(
  Object.entries(ROOM_KINDS).map(([kind, k]) => [kind, k.template]),
) as {
  readonly [K in RoomKind]: (typeof ROOM_KINDS)[K]['template'];
};

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

/** The kind of a room and its params, by the first template it matches; undefined for no kind. */
export function roomKindOf(
  room: string,
): { kind: RoomKind; params: Record<string, string> } | undefined {
  for (const [kind, { template }] of Object.entries(ROOM_KINDS) as Array<
    [RoomKind, { template: string }]
  >) {
    const params = matchRoom(template, room);
    if (params) return { kind, params };
  }
  return undefined;
}
