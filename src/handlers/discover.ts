import { readdirSync } from 'node:fs';
import path from 'node:path';
import { lookupEvent } from '../catalog';
import { isEventHandler, type EventHandler } from './define';

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Handler files: compiled `.js` or, under tsx and jest, `.ts`; never declarations, maps or tests. */
function isHandlerFile(file: string): boolean {
  return /\.(js|ts)$/.test(file) && !/\.(d|test|spec)\.ts$/.test(file) && !file.endsWith('.d.ts');
}

/**
 * Loads every handler exported by the files of `dir`. Fails at start-up (not at the first event)
 * on a duplicate name, a bad name, or an event the catalog does not have.
 */
export function discoverHandlers(dir: string): EventHandler[] {
  const found: EventHandler[] = [];
  const seen = new Map<string, string>();
  let files: string[];
  try {
    files = readdirSync(dir).filter(isHandlerFile).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  for (const file of files) {
    // Synchronous on purpose: the worker knows its handlers before it takes its first job.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(path.join(dir, file)) as Record<string, unknown>;
    for (const value of Object.values(exported)) {
      if (!isEventHandler(value)) continue;
      if (!NAME_RE.test(value.name))
        throw new Error(
          `handler ${JSON.stringify(value.name)} in ${file}: name must match ${NAME_RE}`,
        );
      const other = seen.get(value.name);
      if (other) throw new Error(`handler ${value.name} is defined twice (${other} and ${file})`);
      for (const event of value.events) lookupEvent(event); // throws unknown_event for a typo
      seen.set(value.name, file);
      found.push(value);
    }
  }
  return found;
}
