import { Option, type Command } from 'commander';
import { positiveInt } from './args';
import { GatewayError } from '../../src/errors';
import { printTable, readAndPrint } from './output';

const LIST_COLUMNS = ['key', 'event', 'namespace', 'room', 'count', 'ageMs', 'mode'];

/** `sb pending count|list|flush|drop`: a thin transport over the management core. */
export function registerPending(program: Command): void {
  const pending = program
    .command('pending')
    .description('inspect and steer throttled events waiting for their window');
  const filters = (cmd: Command) =>
    cmd
      .option('--namespace <ns>', 'only this namespace, e.g. /social')
      .option('--event <name>', 'only this event, e.g. post_liked');

  filters(
    pending.command('count').description('how many pending entries (and events in them)'),
  ).action(function (this: Command) {
    const opts = this.opts<{ namespace?: string; event?: string }>();
    return readAndPrint(
      this,
      (m) => m.pendingCount(opts),
      (count) =>
        process.stdout.write(`${count.entries} pending entries holding ${count.events} events\n`),
    );
  });

  filters(pending.command('list').description('pending entries, oldest first'))
    .option('--limit <n>', 'entries per page (1-1000)', positiveInt, 50)
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
        (m) => m.listPending(opts),
        (page) => {
          printTable(page.items as unknown as Record<string, unknown>[], LIST_COLUMNS);
          if (page.nextCursor) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
        },
      );
    });

  pending
    .command('flush')
    .description('emit pending entries now: one (--key) or all (--all)')
    .addOption(new Option('--all', 'every pending entry').conflicts('key'))
    .option('--key <key>', 'one entry, e.g. social:post_liked:post:1')
    .action(function (this: Command) {
      const opts = this.opts<{ all?: boolean; key?: string }>();
      return readAndPrint(
        this,
        (m) => {
          if (!opts.all && opts.key === undefined)
            throw new GatewayError('invalid_argument', 'pending flush needs --all or --key <key>');
          const progress = (done: number, total: number) =>
            process.stderr.write(`flushed ${done}/${total} entries\n`);
          return m.flushPending(
            opts.all ? { all: true } : { key: opts.key as string },
            opts.all ? progress : undefined,
          );
        },
        (result) =>
          process.stdout.write(`flushed ${result.entries} entries (${result.events} events)\n`),
      );
    });

  pending
    .command('drop')
    .description('discard one pending entry without emitting it')
    .requiredOption('--key <key>', 'the entry, e.g. social:post_liked:post:1')
    .action(function (this: Command) {
      const { key } = this.opts<{ key: string }>();
      return readAndPrint(
        this,
        (m) => m.dropPending({ key }),
        ({ dropped }) =>
          process.stdout.write(
            `dropped ${dropped.key}: ${dropped.count} ${dropped.event} events (${dropped.mode})\n`,
          ),
      );
    });
}
