import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { alive } from './launcher';
import { ROOT } from './stack';
import { sleep } from './wait';

const run = promisify(execFile);

export interface Tarballs {
  client: string;
  publisher: string;
}

const LOCK = path.join(ROOT, 'dist', '.pack-lock');

/**
 * `npm run pack`, as a user runs it (a child process), one test file at a time: two files packing
 * at once would write the same package folders. The lock is a directory holding the packer's pid,
 * so a lock left by a killed run is taken over. Waiting polls, since the other packer is a separate
 * jest worker with nothing to wait on.
 */
export async function packPackages(): Promise<Tarballs> {
  mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + 240_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readText(path.join(LOCK, 'pid')));
      if (holder && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error('another test held the pack lock for 4 min');
      else await sleep(250);
    }
  }
  try {
    const { stdout } = await run('npm', ['run', '--silent', 'pack'], {
      cwd: ROOT,
      timeout: 180_000,
    });
    const files = stdout
      .trim()
      .split('\n')
      .map((f) => path.join(ROOT, f.trim()));
    const find = (name: string) => {
      const file = files.find((f) => path.basename(f).startsWith(`switchboard-${name}-`));
      if (!file) throw new Error(`npm run pack wrote no ${name} tarball: ${stdout}`);
      return file;
    };
    return { client: find('client'), publisher: find('publisher') };
  } finally {
    rmSync(path.join(LOCK, 'pid'), { force: true });
    rmdirSync(LOCK);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * An empty project outside the repo with only `specs` installed (tarballs and registry packages),
 * as a user's project would get them: `npm install` from the tarballs, no link to the repo.
 */
export async function consumerProject(prefix: string, specs: string[]): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), `sb-${prefix}-`));
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `sb-${prefix}`, private: true, type: 'module' }, null, 2),
  );
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs],
    { cwd: dir, timeout: 240_000 },
  );
  return dir;
}

/** The repo's TypeScript compiler on a project: its output, and whether it passed. */
export async function tsc(project: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project],
      { timeout: 120_000 },
    );
    return { ok: true, output: stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Bare import specifiers of a bundled file (`from '...'`, `import('...')`, `require('...')`), comments aside. */
export function bareImports(file: string): string[] {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const found = new Set<string>();
  for (const [, a, b] of code.matchAll(
    /\bfrom\s*['"]([^'"]+)['"]|\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = a ?? b;
    if (spec && !spec.startsWith('.')) found.add(spec);
  }
  return [...found].sort();
}
