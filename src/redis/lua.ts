import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster } from 'ioredis';
import type { RedisClient } from './connections';

type ScriptArg = string | number | Buffer;
export type ScriptCall = (...keysThenArgs: ScriptArg[]) => Promise<unknown>;

const sources = new Map<string, { lua: string; numberOfKeys?: number }>();

/**
 * Reads `<dir>/<name>-<numKeys>.lua` once per process. Scripts open with a header stating their
 * KEYS, ARGV and return value; the build copies every `lua/` folder next to the compiled code.
 * `<name>-n.lua` takes a variable number of keys: its callers pass the key count first.
 */
function source(file: string): { lua: string; numberOfKeys?: number } {
  let found = sources.get(file);
  if (!found) {
    const count = /-(\d+|n)\.lua$/.exec(file)?.[1];
    if (count === undefined)
      throw new Error(`lua script ${file} must be named <name>-<numKeys>.lua or <name>-n.lua`);
    const lua = readFileSync(file, 'utf8');
    found = count === 'n' ? { lua } : { lua, numberOfKeys: Number(count) };
    sources.set(file, found);
  }
  return found;
}

/**
 * Defines scripts as commands on a connection (idempotent per connection) and returns callable
 * wrappers. ioredis sends EVALSHA and loads the script on the first NOSCRIPT, so each call is one
 * round trip.
 *
 * @example const { sbEmitBatch } = defineLuaScripts(redis, __dirname, { sbEmitBatch: 'emit-batch-n.lua' });
 */
export function defineLuaScripts<N extends string>(
  redis: RedisClient,
  dir: string,
  files: Record<N, string>,
): Record<N, ScriptCall> {
  const calls = {} as Record<N, ScriptCall>;
  const target = redis as unknown as Record<string, ScriptCall | undefined>;
  for (const name of Object.keys(files) as N[]) {
    if (typeof target[name] !== 'function')
      redis.defineCommand(name, source(path.join(dir, 'lua', files[name])));
    calls[name] = (...args) => (target[name] as ScriptCall).apply(redis, args);
  }
  return calls;
}

/**
 * Loads scripts into Redis's script cache now. Without it the first calls on a fresh cache fail
 * with NOSCRIPT and ioredis re-sends them as EVAL after later calls already ran, which reorders
 * them: for the emit script that reorders a room's first events.
 */
export async function preloadLuaScripts(
  redis: RedisClient,
  dir: string,
  files: Record<string, string>,
): Promise<void> {
  // Each node of a cluster has its own script cache: load them on every master.
  const servers = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const scripts = Object.values(files).map((file) => source(path.join(dir, 'lua', file)).lua);
  await Promise.all(servers.flatMap((server) => scripts.map((lua) => server.script('LOAD', lua))));
}
