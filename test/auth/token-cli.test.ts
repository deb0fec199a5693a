import { TokenVerifier } from '../../src/auth/tokens';
import { runSb } from '../helpers/cli';
import { testConfig } from '../helpers/stack';

const config = testConfig();
const sb = (args: string[]) => runSb(config, args);

describe('sb token', () => {
  it('prints a token the gateway verifies, with the user and roles', async () => {
    const run = await sb(['token', '--user', '42', '--role', 'admin', '--role', 'ops']);
    expect(run.code).toBe(0);
    const user = await new TokenVerifier(config).verify(run.stdout.trim());
    expect(user).toMatchObject({ id: '42', roles: ['admin', 'ops'] });
  });

  it.each([
    [['token'], /^sb: usage: required option '--user <id>'/],
    [['token', '--user', 'bad id'], /^sb: invalid_argument: user id/],
    [['token', '--user', '1', '--ttl', '-5'], /^sb: invalid_argument: ttl/],
  ])('%j exits 2 with one line', async (args, message) => {
    const run = await sb(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });
});
