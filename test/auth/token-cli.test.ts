import { execFile } from 'node:child_process';
import path from 'node:path';
import { TokenVerifier } from '../../src/auth/tokens';
import { configEnv, ROOT, testConfig } from '../helpers/stack';

const config = testConfig();
const sb = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts/sb.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, ...configEnv(config), LOG_LEVEL: 'fatal' }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });

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
