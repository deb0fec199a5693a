/**
 * The room table (src/catalog/rooms.ts) is the one place a room kind is declared: its template
 * and who may join it. `npm test` type-checks test/, so the @ts-expect-error below fails the build
 * if a rule table missing a rule ever compiles; the test checks what the table drives at run time.
 */
import { isPublicRoom, type JoinRules } from '../../src/auth/room-authorizer';
import { ROOM_KINDS, ROOMS, roomOf, roomParamNames } from '../../src/catalog/rooms';
import { helperName } from '../../src/catalog/room-kinds';
import { ROOM_KINDS as CLIENT_ROOM_KINDS } from '../../src/client/rooms';
import { EventManager } from '../../src/events/event-manager';
import { namespaceModules } from '../../src/gateway/namespaces/registry';

// Derived helpers are typed: a kind without an id has none, a helper checks its event's room.
type Helpers = Pick<EventManager, 'emitToPost' | 'emitToOrder' | 'emitToUser' | 'emitToChat'>;
// @ts-expect-error `presence` has no param, so no emitToPresence
type _NoPresenceHelper = EventManager['emitToPresence'];
const typed = (events: Helpers) => {
  // @ts-expect-error order_status_changed goes to order rooms, not post rooms
  void events.emitToPost('order_status_changed', '1', { orderId: '1', status: 'paid' });
};

// @ts-expect-error every JoinRule needs its rule: `admins` is missing
const incomplete: JoinRules = {
  anyone: () => true,
  self: () => true,
  'owner-or-admin': () => true,
  'members-once-listed': () => true,
  'presence-viewers': () => true,
};

describe('the room table', () => {
  it('gives every kind its template in ROOMS, and only rooms anyone may join are public', () => {
    for (const [kind, { template, join }] of Object.entries(ROOM_KINDS)) {
      expect(ROOMS[kind as keyof typeof ROOMS]).toBe(template);
      const params = Object.fromEntries(roomParamNames(template).map((name) => [name, 'x1']));
      expect(isPublicRoom(roomOf(template as string, params))).toBe(join === 'anyone');
    }
    expect(isPublicRoom('team:1')).toBe(false);
    // The table above has one rule fewer than there are JoinRules (and so does not compile).
    const rules = new Set(Object.values(ROOM_KINDS).map((k) => k.join));
    expect(Object.keys(incomplete)).toHaveLength(rules.size - 1);
  });

  it('derives the namespace actions, the client table and the EventManager helpers from it', () => {
    for (const [kind, entry] of Object.entries(ROOM_KINDS)) {
      const params = roomParamNames(entry.template);
      const ns = 'namespace' in entry ? entry.namespace : undefined;
      const hasHelper =
        typeof Object.getOwnPropertyDescriptor(EventManager.prototype, helperName(kind))?.value ===
        'function';
      expect(hasHelper).toBe(params.length === 1);
      if (ns === undefined) continue;
      const actions = namespaceModules[ns].actions as Record<string, unknown>;
      expect(Object.keys(actions)).toEqual(
        expect.arrayContaining([`join_${kind}`, `leave_${kind}`]),
      );
      const client = (CLIENT_ROOM_KINDS[ns] as Record<string, unknown>)[kind];
      expect(client).toEqual({
        join: `join_${kind}`,
        leave: `leave_${kind}`,
        ...(params.length > 0 ? { param: params[0] } : {}),
      });
    }
    expect(helperName('post')).toBe('emitToPost');
    expect(typeof typed).toBe('function');
  });
});
