import type { RedisClient } from '../redis/connections';
import { defineLuaScripts, preloadLuaScripts, type ScriptCall } from '../redis/lua';

/** The pending store's Lua scripts (src/pending/lua/<name>-<numKeys>.lua). */
const SCRIPTS = {
  sbPendingWindow: 'pending-window-5.lua',
  sbPendingDrop: 'pending-drop-2.lua',
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type { ScriptCall };

export function pendingScripts(redis: RedisClient): Record<ScriptName, ScriptCall> {
  return defineLuaScripts(redis, __dirname, SCRIPTS);
}

/** Loads them into the script cache before the first adds (see preloadLuaScripts: order). */
export function preloadPendingScripts(redis: RedisClient): Promise<void> {
  return preloadLuaScripts(redis, __dirname, SCRIPTS);
}
