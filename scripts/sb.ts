/**
 * `npm run sb -- <command>` (see commands/program.ts). Service logs are for services: the CLI
 * keeps stdout for results and stderr for its one-line errors unless LOG_LEVEL asks for more.
 * Set before the program (and its loggers) load, hence the dynamic import.
 */
process.env.LOG_LEVEL ??= 'fatal';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./commands/program');
