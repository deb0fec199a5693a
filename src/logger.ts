import pino, { type Logger } from 'pino';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

// Read straight from the environment (config.ts validates the same variable) because loggers are
// created at import time, before any process has loaded its config.
const level = LEVELS.has(process.env.LOG_LEVEL ?? '') ? (process.env.LOG_LEVEL as string) : 'info';
const root: Logger = pino({ level, base: { pid: process.pid } });

/** One scoped logger per module: `const log = logger('worker')`. */
export function logger(scope: string): Logger {
  return root.child({ scope });
}
