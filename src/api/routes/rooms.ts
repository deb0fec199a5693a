import { Router } from 'express';
import { z } from 'zod';
import { NAMESPACES, USER_ROOM_NAMESPACES, type Namespace } from '../../catalog';
import { ROOM_KINDS, roomKindOf, type RoomKindEntry } from '../../catalog/rooms';
import { withExamples } from '../../catalog/fields';
import { GatewayError } from '../../errors';
import { RoomHistory } from '../../history/room-history';
import { OFFSET_RE } from '../../ids';
import type { Runtime } from '../../runtime';
import type { HttpOperation } from '../operation';
import { parse } from '../validate';

export const RoomPositionQuery = withExamples(
  z.object({
    ns: z.enum(NAMESPACES).meta({ description: 'the namespace, e.g. /orders' }),
    room: z.string().min(1).max(300).meta({ description: 'the room, e.g. order:42' }),
  }),
  { ns: '/orders', room: 'order:42' },
);

export const RoomPosition = z.object({
  offset: z.string().regex(OFFSET_RE).meta({
    description: "the room's last history entry id, `0-0` when it has none",
  }),
});

/** Whether `room` is a room clients of `ns` can be in (a kind of the room table, or the user's own). */
function isRoomOf(ns: Namespace, room: string): boolean {
  const found = roomKindOf(room);
  if (!found) return false;
  const home = (ROOM_KINDS[found.kind] as RoomKindEntry).namespace;
  return (
    home === undefined || home === ns || (found.kind === 'user' && USER_ROOM_NAMESPACES.has(ns))
  );
}

/**
 * `GET /api/rooms/position?ns=/orders&room=order:42` (publish token): the room's position now. A
 * backend reads it before its snapshot of the room's state and hands both to the page, which joins
 * with `since` = that position: the events after the snapshot are replayed, none before it, so
 * nothing between the snapshot and the join is lost or applied twice.
 */
export function roomRoutes(rt: Pick<Runtime, 'redis' | 'keys'>): Router {
  const history = new RoomHistory(rt.redis, rt.keys);
  const r = Router();
  r.get('/rooms/position', async (req, res) => {
    const { ns, room } = parse(RoomPositionQuery, req.query, 'query');
    if (!isRoomOf(ns, room))
      throw new GatewayError('invalid_target', `${room} is not a room of ${ns}`, {
        issues: [{ path: ['room'], message: 'not a room of this namespace' }],
      });
    res.json({ offset: await history.latest(ns, room) });
  });
  return r;
}

export const roomOperations: HttpOperation[] = [
  {
    method: 'get',
    path: '/api/rooms/position',
    operationId: 'roomPosition',
    tag: 'publish',
    auth: 'publish',
    summary: "A room's position, to take before a snapshot",
    description:
      "The room's last history entry id (`0-0` when it has none). Read it before reading the state a page starts from, and let the page join with `since` set to it: the gateway replays what followed, nothing before.",
    query: RoomPositionQuery,
    response: { status: 200, description: "the room's position", schema: RoomPosition },
    errors: ['invalid_payload', 'invalid_target', 'unavailable'],
  },
];
