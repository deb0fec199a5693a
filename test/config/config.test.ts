import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig, ConfigError } from '../../src/config';
import { ROOT } from '../helpers/stack';

function run(
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('config', () => {
  it('defaults run locally', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      KEY_PREFIX: 'sb',
      QUEUE_NAME: 'events',
      WORKER_CONCURRENCY: 50,
      LOG_LEVEL: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['REDIS_URL', 'http://x'],
    ['KEY_PREFIX', 'has space'],
    ['QUEUE_NAME', 'a:b'],
    ['WORKER_CONCURRENCY', '0'],
    ['LOG_LEVEL', 'loud'],
  ])('%s=%s is refused with a message naming it and its value', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(
      new RegExp(
        `^invalid configuration: ${name}: .*${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
      ),
    );
  });

  it.each([
    ['JWT_SECRET', 'short-but-secret-Zq9'],
    ['ADMIN_TOKEN', 'tiny-Zq9'],
    ['PUBLISH_TOKEN', 'tiny-Zq9'],
  ])('names %s and its rule but never prints its value', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(
      new RegExp(`^invalid configuration: ${name}: must be at least \\d+ characters$`),
    );
    expect(() => loadConfig({ [name]: value })).not.toThrow(/Zq9/);
  });

  it('shows a bad REDIS_URL without any password of its seed list', () => {
    const bad = 'redis://u:pw-Zq9@10.0.0.1:6379,redis://:pw2-Zq9@10.0.0.2:6379,not-a-url';
    expect(() => loadConfig({ REDIS_URL: bad })).toThrow(
      /^invalid configuration: REDIS_URL: .*\(got "redis:\/\/\*\*\*@10\.0\.0\.1:6379,redis:\/\/\*\*\*@10\.0\.0\.2:6379,not-a-url"\)$/,
    );
    expect(() => loadConfig({ REDIS_URL: bad })).not.toThrow(/Zq9/);
  });

  it('lists every bad variable on one line', () => {
    try {
      loadConfig({ PORT: 'x', WORKER_CONCURRENCY: '-1' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT: .*; WORKER_CONCURRENCY: /);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it.each([
    ['src/app/gateway-main.ts', { PORT: 'abc' }, /^invalid configuration: PORT: /],
    [
      'workers/main.ts',
      { WORKER_CONCURRENCY: 'lots' },
      /^invalid configuration: WORKER_CONCURRENCY: /,
    ],
    [
      'src/app/gateway-main.ts',
      { REDIS_URL: 'redis://127.0.0.1:1', REDIS_CONNECT_TIMEOUT_MS: '500' },
      /^gateway failed to start: redis at redis:\/\/127\.0\.0\.1:1 not ready within 500 ms \(last error: .*ECONNREFUSED/,
    ],
    [
      'workers/main.ts',
      { REDIS_URL: 'redis://127.0.0.1:1', REDIS_CONNECT_TIMEOUT_MS: '500' },
      /^worker failed to start: redis at redis:\/\/127\.0\.0\.1:1 not ready within 500 ms/,
    ],
  ])('%s with %j exits non-zero with one clear line', async (entry, env, message) => {
    const { code, stderr } = await run(entry, env);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.trim()).toMatch(message);
  });
});
