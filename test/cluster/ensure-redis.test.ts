import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../helpers/redis';
import { freePort, TestRedisServer } from '../helpers/redis-server';
import { ROOT } from '../helpers/stack';

/** Runs the preparation step's Redis check (`scripts/ensure-redis.sh`) with REDIS_URL and REDIS_MODE. */
function ensureRedis(url: string, mode = 'cluster') {
  const run = spawnSync('bash', [path.join(ROOT, 'scripts/ensure-redis.sh')], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: url, REDIS_MODE: mode },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the preparation step with REDIS_MODE=cluster and a seed list', () => {
  it('accepts the test cluster when its seeds answer, and says how many', () => {
    expect(TEST_REDIS_URL.split(',')).toHaveLength(3);
    expect(ensureRedis(TEST_REDIS_URL)).toEqual({
      status: 0,
      stdout: 'redis: using REDIS_URL (cluster, 3 of 3 seeds answer)\n',
      stderr: '',
    });
  });

  it('accepts a list where only some seeds answer, spaces and credentials included, and never prints a password', async () => {
    const dead = await freePort();
    const run = ensureRedis(`${TEST_REDIS_URL}, redis://ops:s3cret-pass@127.0.0.1:${dead}`);
    expect(run).toEqual({
      status: 0,
      stdout: 'redis: using REDIS_URL (cluster, 3 of 4 seeds answer)\n',
      stderr: '',
    });
  });

  it('sends each seed its own user:password (a wrong one does not count as answering)', async () => {
    // The step only PINGs seeds: a private redis-server with a password stands in for a protected node
    // (set once it runs: the helper's own start probe sends no password).
    const locked = await TestRedisServer.start();
    try {
      const admin = new Redis(locked.url);
      await admin.config('SET', 'requirepass', 's3cret-pass');
      admin.disconnect();
      const run = ensureRedis(
        `redis://default:wrong-pass@127.0.0.1:${locked.port},redis://default:s3cret-pass@127.0.0.1:${locked.port}`,
      );
      expect(run).toEqual({
        status: 0,
        stdout: 'redis: using REDIS_URL (cluster, 1 of 2 seeds answer)\n',
        stderr: '',
      });
      expect(ensureRedis(`redis://default:wrong-pass@127.0.0.1:${locked.port}`).status).toBe(1);
    } finally {
      await locked.close();
    }
  });

  it('fails with one line naming the seeds, without their passwords, when none answers', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const run = ensureRedis(
      `redis://ops:s3cret-pass@127.0.0.1:${a},redis://:other-pass@127.0.0.1:${b}/0`,
    );
    expect(run).toEqual({
      status: 1,
      stdout: '',
      stderr: `redis: REDIS_MODE=cluster but no seed of REDIS_URL answers PING (127.0.0.1:${a} 127.0.0.1:${b}); start the cluster or fix REDIS_URL\n`,
    });
  });

  it('leaves standalone mode as it was: one URL must answer, a list is not one URL', () => {
    const [first] = TEST_REDIS_URL.split(',');
    expect(ensureRedis(first!, 'standalone')).toEqual({
      status: 0,
      stdout: 'redis: using REDIS_URL\n',
      stderr: '',
    });
    const list = ensureRedis(TEST_REDIS_URL, 'standalone');
    expect(list.status).toBe(1);
    expect(list.stderr).toMatch(/^redis: REDIS_URL is set but does not answer PING;[^\n]*\n$/);
  });
});
