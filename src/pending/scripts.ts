import type { Redis } from 'ioredis';
import { defineLuaScripts, type ScriptCall } from '../redis/lua';

/** The pending store's Lua scripts (src/pending/lua/<name>-<numKeys>.lua). */
const SCRIPTS = {
  sbPendingAdd: 'pending-add-4.lua',
  sbPendingClaim: 'pending-claim-3.lua',
  sbPendingDrop: 'pending-drop-2.lua',
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type { ScriptCall };

export function pendingScripts(redis: Redis): Record<ScriptName, ScriptCall> {
  return defineLuaScripts(redis, __dirname, SCRIPTS);
}
