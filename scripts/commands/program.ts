import { Command, CommanderError } from 'commander';
import { registerEmit } from './emit';
import { registerEvents } from './events';
import { registerJobs } from './jobs';
import { EXIT_USAGE } from './output';
import { registerThrottle } from './throttle';
import { registerToken } from './token';

/**
 * `npm run sb -- <command>`: the operator CLI. Each command module registers its subcommands and
 * calls the management core; this file only wires them and turns usage errors into one line.
 * Configuration (REDIS_URL, KEY_PREFIX) comes from the environment, as for every process.
 */
const program = new Command('sb')
  .description('Switchboard operator CLI')
  .option('--json', 'machine-readable output')
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({ outputError: () => undefined });

registerThrottle(program);
registerEmit(program);
registerJobs(program);
registerToken(program);
registerEvents(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.help' ||
      err.code === 'commander.version'
    )
      process.exit(0);
    // Commander's messages start with "error: "; one line, in the same shape as every other failure.
    process.stderr.write(
      `sb: usage: ${err.message.replace(/^error: /, '').split('\n')[0]} (see --help)\n`,
    );
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`sb: internal: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
