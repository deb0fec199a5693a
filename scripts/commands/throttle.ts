import { Option, type Command } from 'commander';
import { positiveInt } from './args';
import { GatewayError } from '../../src/errors';
import { printTable, readAndPrint } from './output';

const LIST_COLUMNS = ['key', 'event', 'namespace', 'room', 'count', 'ageMs', 'mode'];

/** `sb throttle count|list|flush|drop`: a thin transport over the management core. */
export function registerThrottle(program: Command): void {
  const throttle = program
    .command('throttle')
    // The command's name before throttling had one word everywhere; kept so scripts keep working.
    .alias('pending')
    .description('inspect and steer throttled events waiting for their window');
  const filters = (cmd: Command) =>
    cmd
      .option('--namespace <ns>', 'only this namespace, e.g. /social')
      .option('--event <name>', 'only this event, e.g. post_liked');

  filters(
    throttle.command('count').description('how many open windows (and events in them)'),
  ).action(function (this: Command) {
    const opts = this.opts<{ namespace?: string; event?: string }>();
    return readAndPrint(
      this,
      (m) => m.countWindows(opts),
      (count) =>
        process.stdout.write(`${count.windows} open windows holding ${count.events} events\n`),
    );
  });

  filters(throttle.command('list').description('open windows, oldest first'))
    .option('--limit <n>', 'windows per page (1-1000)', positiveInt, 50)
    .option('--cursor <c>', 'next page: the nextCursor of the previous page')
    .action(function (this: Command) {
      const opts = this.opts<{
        namespace?: string;
        event?: string;
        limit: number;
        cursor?: string;
      }>();
      return readAndPrint(
        this,
        (m) => m.listWindows(opts),
        (page) => {
          printTable(page.items as unknown as Record<string, unknown>[], LIST_COLUMNS);
          if (page.nextCursor) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
        },
      );
    });

  throttle
    .command('flush')
    .description('emit open windows now: one (--key) or all (--all)')
    .addOption(new Option('--all', 'every open window').conflicts('key'))
    .option('--key <key>', 'one entry, e.g. social:post_liked:post:1')
    .action(function (this: Command) {
      const opts = this.opts<{ all?: boolean; key?: string }>();
      return readAndPrint(
        this,
        (m) => {
          if (!opts.all && opts.key === undefined)
            throw new GatewayError('invalid_argument', 'throttle flush needs --all or --key <key>');
          const progress = (done: number, total: number) =>
            process.stderr.write(`flushed ${done}/${total} windows\n`);
          return m.flushWindows(
            opts.all ? { all: true } : { key: opts.key as string },
            opts.all ? progress : undefined,
          );
        },
        (result) =>
          process.stdout.write(`flushed ${result.windows} windows (${result.events} events)\n`),
      );
    });

  throttle
    .command('drop')
    .description('discard one open window without emitting it')
    .requiredOption('--key <key>', 'the entry, e.g. social:post_liked:post:1')
    .action(function (this: Command) {
      const { key } = this.opts<{ key: string }>();
      return readAndPrint(
        this,
        (m) => m.dropWindow({ key }),
        ({ dropped }) =>
          process.stdout.write(
            `dropped ${dropped.key}: ${dropped.count} ${dropped.event} events (${dropped.mode})\n`,
          ),
      );
    });
}
