import type { Command } from 'commander';
import { loadConfig } from '../../src/config';
import { GatewayError, toGatewayError } from '../../src/errors';
import { openManagement } from '../../src/app/management';
import type { Management } from '../../src/management/management';

/** Exit codes: 0 done, 1 the operation failed (not found, Redis away), 2 bad input. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** `--json` is a program-wide option; any subcommand reads it from here. */
export function wantsJson(cmd: Command): boolean {
  return Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
}

/** Prints rows as an aligned table with a header line. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c])));
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => (r[i] as string).length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  process.stdout.write(
    `${line(columns.map((c) => c.toUpperCase()))}\n${cells.map(line).join('\n')}\n`,
  );
}

function formatCell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One line on stderr, then exit: `sb: <code>: <message>`. */
export function fail(error: GatewayError): never {
  process.stderr.write(`sb: ${error.code}: ${error.message}\n`);
  process.exit(error.status < 500 && error.code !== 'not_found' ? EXIT_USAGE : EXIT_FAILED);
}

/**
 * Runs one command against the management core: config from the environment, a Redis connection
 * that fails in bounded time, every error turned into one line and a non-zero exit.
 */
export async function withManagement(work: (m: Management) => Promise<void>): Promise<void> {
  let management: Management | undefined;
  try {
    const config = loadConfig();
    management = await openManagement(config);
    await work(management);
  } catch (err) {
    const error = err instanceof GatewayError ? err : toGatewayError(err);
    if (error.code === 'internal') error.message = `internal error: ${(err as Error).message}`;
    await management?.close().catch(() => undefined);
    fail(error);
  }
  await management.close();
}

/**
 * What most commands do: `read` from the management core (inside withManagement, so its errors
 * exit like any other), then print the answer as JSON under --json, else as `show` lays it out.
 */
export function readAndPrint<T>(
  cmd: Command,
  read: (m: Management) => Promise<T>,
  show: (answer: T) => void,
): Promise<void> {
  return withManagement(async (m) => {
    const answer = await read(m);
    if (wantsJson(cmd)) printJson(answer);
    else show(answer);
  });
}

/** Parses a JSON option, or fails with `invalid_argument` naming the option. */
export function jsonOption(value: string | undefined, name: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new GatewayError('invalid_argument', `${name} is not valid JSON`);
  }
}
