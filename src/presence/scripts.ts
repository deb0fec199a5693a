import type { RedisClient } from '../redis/connections';
import { defineLuaScripts, preloadLuaScripts, type ScriptCall } from '../redis/lua';

/**
 * Presence scripts (src/presence/lua/, each with its KEYS, ARGV and reply in its header). Every
 * key arrives in KEYS; the user and lease scripts work under the presence hash tag, the room
 * scripts under the room's own tag, so room presence spreads over a cluster's masters.
 */
const SCRIPTS = {
  sbPresenceUser: 'presence-user-2.lua',
  sbPresenceRoom: 'presence-room-2.lua',
  sbPresenceRoomReap: 'presence-room-reap-2.lua',
  sbPresenceBeat: 'presence-beat-2.lua',
  sbPresenceReapUsers: 'presence-reap-users-4.lua',
};

export function presenceScripts(redis: RedisClient): Record<keyof typeof SCRIPTS, ScriptCall> {
  return defineLuaScripts(redis, __dirname, SCRIPTS);
}

/** Loads them into the script cache before the first socket (see preloadLuaScripts: order). */
export function preloadPresenceScripts(redis: RedisClient): Promise<void> {
  return preloadLuaScripts(redis, __dirname, SCRIPTS);
}
