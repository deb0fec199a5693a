import type { Command } from 'commander';
import { GatewayError } from '../../src/errors';
import { jsonOption, readAndPrint } from './output';

/** `sb emit --force <event> --target JSON --data JSON`: validate with the catalog, emit at once. */
export function registerEmit(program: Command): void {
  program
    .command('emit')
    .description(
      'force-emit one catalog event now, bypassing throttling (open windows are left alone)',
    )
    .argument('<event>', 'catalog event name, e.g. post_liked')
    .option('--force', 'required: say that you mean to bypass the delivery policy')
    .option('--target <json>', 'room params, e.g. \'{"postId":"1"}\' (else taken from the data)')
    .requiredOption('--data <json>', 'the payload, checked against the catalog schema')
    .action(function (this: Command, event: string) {
      const opts = this.opts<{ force?: boolean; target?: string; data: string }>();
      return readAndPrint(
        this,
        (m) => {
          if (!opts.force)
            throw new GatewayError(
              'invalid_argument',
              'emit bypasses throttling: add --force (normal events go through the API)',
            );
          return m.forceEmit(
            event,
            jsonOption(opts.data, '--data'),
            jsonOption(opts.target, '--target'),
          );
        },
        (result) =>
          process.stdout.write(
            `queued ${event} for ${result.namespace} ${result.room} (id ${result.id}; a worker emits it at once, bypassing the throttle)\n`,
          ),
      );
    });
}
