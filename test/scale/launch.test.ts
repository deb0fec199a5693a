import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { launchPlan, LaunchError } from '../../scripts/launch-plan';
import { ROOT } from '../helpers/stack';

const summary = (env: NodeJS.ProcessEnv) => launchPlan(env).map((p) => [p.name, p.entry, p.entry === 'workers/main' ? p.env.METRICS_PORT : p.env.PORT]);

describe('npm start: GATEWAYS x WORKERS', () => {
  it('runs one gateway on PORT and one worker on METRICS_PORT by default', () => {
    expect(summary({})).toEqual([
      ['gateway', 'src/gateway/main', '3000'],
      ['worker', 'workers/main', '9464'],
    ]);
  });

  it('gives gateway n PORT+n and worker n METRICS_PORT+n', () => {
    expect(summary({ GATEWAYS: '3', WORKERS: '2', PORT: '4000', METRICS_PORT: '9500' })).toEqual([
      ['gateway-1', 'src/gateway/main', '4000'],
      ['gateway-2', 'src/gateway/main', '4001'],
      ['gateway-3', 'src/gateway/main', '4002'],
      ['worker-1', 'workers/main', '9500'],
      ['worker-2', 'workers/main', '9501'],
    ]);
  });

  it('keeps port 0 (any free port) and leaves a non-number to the process config check', () => {
    expect(summary({ GATEWAYS: '2', PORT: '0', METRICS_PORT: 'x' }).map(([, , port]) => port)).toEqual(['0', '0', 'x']);
  });

  it.each(['0', '-1', '1.5', 'two', '65', ' 2'])('refuses %j as GATEWAYS or WORKERS', (bad) => {
    expect(() => launchPlan({ GATEWAYS: bad })).toThrow(new LaunchError(`GATEWAYS must be a whole number from 1 to 64 (got ${JSON.stringify(bad)})`));
    expect(() => launchPlan({ WORKERS: bad })).toThrow(LaunchError);
  });

  it('refuses a port range past 65535', () => {
    expect(() => launchPlan({ GATEWAYS: '3', PORT: '65534' })).toThrow('PORT 65534 leaves no room for 3 processes (port 65536 is past 65535)');
  });

  it('the launcher prints one line and exits 2 on a bad count, starting nothing', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/launch.ts')], {
      cwd: ROOT,
      env: { ...process.env, GATEWAYS: 'three' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({
      status: 2,
      stderr: 'launch: GATEWAYS must be a whole number from 1 to 64 (got "three")\n',
      stdout: '',
    });
  });
});
