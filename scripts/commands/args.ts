import { InvalidArgumentError } from 'commander';

/** `--limit`-style options: a whole number from 1 to 1000. */
export function positiveInt(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000) throw new InvalidArgumentError('must be a number from 1 to 1000');
  return Number(value);
}
