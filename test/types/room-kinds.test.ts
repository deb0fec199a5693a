/**
 * The room table (src/catalog/rooms.ts) is the one place a room kind is declared: its template
 * and who may join it. `npm test` type-checks test/, so the @ts-expect-error below fails the build
 * if a rule table missing a rule ever compiles; the test checks what the table drives at run time.
 */
import { isPublicRoom, type JoinRules } from '../../src/auth/room-authorizer';
import { ROOM_KINDS, ROOMS, roomOf, roomParamNames } from '../../src/catalog/rooms';

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
});
