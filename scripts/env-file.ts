import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/**
 * Reads a dotenv file (`NAME=value` lines, `#` comments, quotes; Node's own parser, as
 * `node --env-file` and `process.loadEnvFile` use) into `env`, for `npm start`. A variable
 * already in `env` wins, even when empty: the real environment overrides the file, so one
 * `PORT=4000 npm start` needs no edit of it. Returns the names it set, or `undefined` when there is
 * no such file. Values are checked where every variable is, by each process's config
 * (src/config.ts), never here.
 *
 * @example loadEnvFile('.env') // ['JWT_SECRET', 'PUBLISH_TOKEN'] (those the environment lacked)
 */
export function loadEnvFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (name in env) continue;
    env[name] = value;
    set.push(name);
  }
  return set;
}
