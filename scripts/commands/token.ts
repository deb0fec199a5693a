import type { Command } from 'commander';
import { mintToken } from '../../src/auth/tokens';
import { ConfigError, loadConfig } from '../../src/config';
import { GatewayError, toGatewayError } from '../../src/errors';
import { fail, printJson, wantsJson } from './output';

/**
 * `sb token --user 42 [--role admin]... [--ttl 3600]`: prints a development JWT the gateway accepts
 * (HS256 with the configured JWT_SECRET, issuer and audience).
 */
export function registerToken(program: Command): void {
  program
    .command('token')
    .description(
      'print a development JWT for a user (HS256, the configured secret, issuer and audience)',
    )
    .requiredOption('--user <id>', 'user id (the token subject)')
    .option(
      '--role <role>',
      'a role, repeatable (e.g. --role admin)',
      (role: string, roles: string[]) => [...roles, role],
      [] as string[],
    )
    .option('--ttl <seconds>', 'lifetime in seconds', '3600')
    .action(async function (this: Command) {
      const opts = this.opts<{ user: string; role: string[]; ttl: string }>();
      try {
        const token = await mintToken(loadConfig(), {
          userId: opts.user,
          roles: opts.role,
          ttlSeconds: Number(opts.ttl),
        });
        if (wantsJson(this)) printJson({ token });
        else process.stdout.write(`${token}\n`);
      } catch (err) {
        fail(
          err instanceof ConfigError
            ? new GatewayError('invalid_argument', err.message)
            : toGatewayError(err),
        );
      }
    });
}
