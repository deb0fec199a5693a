import { Option, type Command } from 'commander';
import {
  QUEUE_KINDS,
  RetryRequestSchema,
  type QueueKind,
  type QueueStatus,
} from '../../src/management/jobs';
import { parseArgs, positiveInt } from './args';
import { printTable, readAndPrint } from './output';

const queueOption = () =>
  new Option('--queue <queue>', 'only this queue').choices([...QUEUE_KINDS]);

function printStatus(statuses: QueueStatus[]): void {
  printTable(
    statuses.map((s) => ({ queue: s.queue, state: s.paused ? 'paused' : 'running', ...s.counts })),
    ['queue', 'state', 'wait', 'active', 'delayed', 'failed'],
  );
}

/** `sb failed list|retry`, `sb queue status|pause|resume`, `sb handlers`: thin over Management.jobs. */
export function registerJobs(program: Command): void {
  const failed = program
    .command('failed')
    .description('jobs kept after their last attempt failed (delivery and handlers)');
  failed
    .command('list')
    .description('failed jobs, newest first')
    .addOption(queueOption())
    .option('--limit <n>', 'at most this many (1-1000)', positiveInt, 50)
    .action(function (this: Command) {
      const opts = this.opts<{ queue?: QueueKind; limit: number }>();
      return readAndPrint(
        this,
        (m) => m.jobs.listFailed(opts),
        (jobs) =>
          printTable(
            jobs.map((j) => ({
              ...j,
              failedAt: j.failedAt ? new Date(j.failedAt).toISOString() : undefined,
            })),
            ['queue', 'id', 'name', 'event', 'attemptsMade', 'failedAt', 'failedReason'],
          ),
      );
    });
  failed
    .command('retry')
    .description('move failed jobs back to waiting: one (--queue and --id) or all (--all)')
    .addOption(queueOption())
    .addOption(new Option('--all', 'every failed job (of --queue, or both queues)').conflicts('id'))
    .option('--id <id>', 'one job, as shown by failed list')
    .action(function (this: Command) {
      const opts = this.opts<{ queue?: QueueKind; id?: string; all?: boolean }>();
      return readAndPrint(
        this,
        // The admin API's request, checked by the same schema: one set of rules and messages.
        (m) => m.jobs.retryFailed(parseArgs(RetryRequestSchema, opts, 'failed retry')),
        (result) => process.stdout.write(`retried ${result.retried} jobs\n`),
      );
    });

  const queue = program.command('queue').description('the delivery and handler queues');
  queue
    .command('status')
    .description('job counts and whether processing is paused')
    .action(function (this: Command) {
      return readAndPrint(this, (m) => m.jobs.status(), printStatus);
    });
  for (const [name, paused, what] of [
    ['pause', true, 'stop processing on every worker; accepted events keep queuing'],
    ['resume', false, 'process again; everything queued while paused is delivered'],
  ] as const) {
    queue
      .command(name)
      .description(what)
      .addOption(queueOption())
      .action(function (this: Command) {
        const opts = this.opts<{ queue?: QueueKind }>();
        return readAndPrint(this, (m) => m.jobs.setPaused(paused, opts.queue), printStatus);
      });
  }

  program
    .command('handlers')
    .description('server-side handlers the workers loaded, per event, with failed job counts')
    .action(function (this: Command) {
      return readAndPrint(
        this,
        (m) => m.jobs.handlers(),
        (summary) => {
          printTable(summary.handlers, ['name', 'events', 'failed']);
          const events = Object.entries(summary.byEvent).map(
            ([event, handlers]) => `${event}=${handlers}`,
          );
          if (events.length > 0) process.stdout.write(`handlers per event: ${events.join(' ')}\n`);
        },
      );
    });
}
