import type { RedisClient } from '../redis/connections';
import { defineLuaScripts, preloadLuaScripts, type ScriptCall } from '../redis/lua';

/** The throttle store's Lua scripts (src/throttle/lua/<name>-<numKeys>.lua). */
const SCRIPTS = {
  sbThrottleWindow: 'throttle-window-5.lua',
  sbThrottleDrop: 'throttle-drop-2.lua',
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type { ScriptCall };

export function throttleScripts(redis: RedisClient): Record<ScriptName, ScriptCall> {
  return defineLuaScripts(redis, __dirname, SCRIPTS);
}

/** Loads them into the script cache before the first adds (see preloadLuaScripts: order). */
export function preloadThrottleScripts(redis: RedisClient): Promise<void> {
  return preloadLuaScripts(redis, __dirname, SCRIPTS);
}
