import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';
import { GatewayError } from '../../src/errors';

/** `--limit`-style options: a whole number from 1 to 1000. */
export function positiveInt(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000)
    throw new InvalidArgumentError('must be a number from 1 to 1000');
  return Number(value);
}

/**
 * Checks a command's options with the core's request schema (the one the admin API parses with),
 * leaving out options not given; fails with `invalid_argument` and zod's first message.
 */
export function parseArgs<S extends z.ZodType>(
  schema: S,
  opts: Record<string, unknown>,
  command: string,
): z.output<S> {
  const given = Object.fromEntries(Object.entries(opts).filter(([, value]) => value !== undefined));
  const result = schema.safeParse(given);
  if (!result.success) throw GatewayError.fromZod(result.error, 'invalid_argument', command);
  return result.data;
}
