#!/usr/bin/env node
/**
 * The operator CLI (see commands/program.ts): `npm run sb -- <command>` in development (under tsx),
 * `sb <command>` where it is built (package.json `bin`: dist/scripts/sb.js, on the image's PATH).
 * Plain Node once compiled: nothing here or below needs a dev dependency.
 * Service logs are for services: the CLI keeps stdout for results and stderr for its one-line
 * errors unless LOG_LEVEL asks for more. Set before the program (and its loggers) load, hence the
 * require after it.
 */
process.env.LOG_LEVEL ??= 'fatal';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./commands/program');
