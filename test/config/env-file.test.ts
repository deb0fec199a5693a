import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadEnvFile } from '../../scripts/env-file';
import { ROOT } from '../helpers/stack';

/**
 * `npm start` reads `.env` (scripts/env-file.ts, called by scripts/launch.ts) under the real
 * environment: a value from the file is used, a variable already set (even empty) wins.
 */
describe('npm start reads .env', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sb-env-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (text: string) => {
    const file = path.join(dir, '.env');
    writeFileSync(file, text);
    return file;
  };

  it('adds what the environment lacks, keeps what it has, and says which it set', () => {
    const file = write(
      [
        '# a comment',
        'PORT=4100',
        'LOG_LEVEL=debug',
        'ADMIN_TOKEN="a quoted # value"',
        'CORS_ORIGINS=from-file',
        '',
      ].join('\n'),
    );
    const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn', CORS_ORIGINS: '' };
    expect(loadEnvFile(file, env)?.sort()).toEqual(['ADMIN_TOKEN', 'PORT']);
    expect(env).toEqual({
      PORT: '4100',
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN: 'a quoted # value',
      CORS_ORIGINS: '',
    });
  });

  it('does nothing without a file', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(loadEnvFile(path.join(dir, '.env'), env)).toBeUndefined();
    expect(env).toEqual({});
  });

  /** The launcher from source as npm start runs it (built), in `dir`, with `env` over this process's. */
  const launcher = (env: Record<string, string>) => {
    // This process's GATEWAYS and WORKERS (if any) left out: only the file or `env` set them.
    const inherited = Object.entries(process.env).filter(
      ([name]) => name !== 'GATEWAYS' && name !== 'WORKERS',
    );
    const childEnv: NodeJS.ProcessEnv = { ...Object.fromEntries(inherited), ...env };
    return spawnSync(
      process.execPath,
      ['--import', require.resolve('tsx'), path.join(ROOT, 'scripts/launch.ts')],
      { cwd: dir, env: childEnv, encoding: 'utf8', timeout: 20_000 },
    );
  };

  it("makes the launcher use the file's GATEWAYS, or the environment's when both have one", () => {
    // A count the launcher refuses: it says which value it got and exits 2, starting nothing.
    write('GATEWAYS=three\n');
    const fromFile = launcher({});
    expect(fromFile.status).toBe(2);
    expect(fromFile.stderr).toContain('launch: from .env: GATEWAYS');
    expect(fromFile.stderr).toContain('GATEWAYS must be a whole number from 0 to 64 (got "three")');

    const fromEnv = launcher({ GATEWAYS: 'seven' });
    expect(fromEnv.status).toBe(2);
    expect(fromEnv.stderr).not.toContain('launch: from .env');
    expect(fromEnv.stderr).toContain('(got "seven")');
  });
});
