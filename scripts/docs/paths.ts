import path from 'node:path';

/** The repository root, from scripts/docs (tsx, jest) or dist/scripts/docs (compiled). */
export const ROOT = path.resolve(
  __dirname,
  __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..',
);

export const DOCS_DIR = path.join(ROOT, 'docs');
export const CONFIG_SOURCE = path.join(ROOT, 'src', 'config.ts');
export const CONFIGURATION_PAGE = path.join(DOCS_DIR, 'configuration.md');
export const BENCH_RESULTS_DIR = path.join(ROOT, 'bench', 'results');
