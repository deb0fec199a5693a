import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../src/config';
import { configEnv, ROOT } from './stack';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sb <args>` as a real process against a test's config, as an operator would. */
export function runSb(
  config: Config,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts/sb.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...configEnv(config), LOG_LEVEL: 'fatal', ...env },
        timeout: 20_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
