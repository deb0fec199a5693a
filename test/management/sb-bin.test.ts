import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { configEnv, ROOT, testConfig } from '../helpers/stack';
import { deleteKeys } from '../helpers/redis';

const run = promisify(execFile);

interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: Record<string, string>;
}

const manifest = (dir: string) =>
  JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;

/** Where Node finds package `name` from `dir`: the nearest node_modules up to the repo's. */
function resolvePackage(name: string, dir: string): string | undefined {
  for (let at = dir; at.startsWith(ROOT); at = path.dirname(at)) {
    const candidate = path.join(at, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (at === ROOT) break;
  }
  return undefined;
}

/** The folders under the repo's node_modules/ that the production dependencies need, transitively. */
function productionClosure(): Set<string> {
  const seen = new Set<string>();
  const visit = (dir: string, deps: Manifest, optional: (name: string) => boolean) => {
    for (const name of Object.keys({
      ...deps.dependencies,
      ...deps.optionalDependencies,
      ...deps.peerDependencies,
    })) {
      const found = resolvePackage(name, dir);
      if (!found) {
        if (optional(name)) continue;
        throw new Error(`production dependency ${name} (of ${dir}) is not installed`);
      }
      if (seen.has(found)) continue;
      seen.add(found);
      const m = manifest(found);
      visit(found, m, (n) =>
        Boolean(
          m.optionalDependencies?.[n] ??
          m.peerDependenciesMeta?.[n]?.optional ??
          m.peerDependencies?.[n],
        ),
      );
    }
  };
  const root = manifest(ROOT);
  visit(
    ROOT,
    { dependencies: root.dependencies, optionalDependencies: root.optionalDependencies },
    (n) => Boolean(root.optionalDependencies?.[n]),
  );
  return seen;
}

/** Every `lua/` folder under src/ and workers/, copied to the same place under `dist` (as scripts/copy-lua.ts). */
function copyLua(from: string, dist: string): void {
  for (const name of readdirSync(from)) {
    const full = path.join(from, name);
    if (!statSync(full).isDirectory()) continue;
    if (name === 'lua')
      cpSync(full, path.join(dist, path.relative(ROOT, full)), { recursive: true });
    else copyLua(full, dist);
  }
}

/**
 * The `sb` bin (package.json `bin`: dist/scripts/sb.js) as the Docker image has it: compiled by tsc
 * the way `npm run build` does (here into a folder of the test's own), beside a package.json and a
 * node_modules/ holding only the production dependencies (symlinks, resolved with
 * --preserve-symlinks so nothing is found through the repo's full node_modules/), on PATH as `sb`.
 * It runs `--help` and a real command against Redis with plain Node: no tsx, no dev dependency.
 */
describe('the sb bin with production dependencies only', () => {
  const config = testConfig();
  let tmp: string;
  let app: string;
  let bin: string;
  let binDir: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'sb-bin-'));
    app = path.join(tmp, 'app');
    mkdirSync(path.join(app, 'node_modules'), { recursive: true });
    const sbPath = manifest(ROOT).bin?.sb;
    expect(sbPath).toBe('dist/scripts/sb.js');
    // The CLI's closure only (sb.ts requires its program, which tsc cannot follow from a require).
    const tsconfig = path.join(tmp, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: path.join(ROOT, 'tsconfig.build.json'),
        compilerOptions: {
          rootDir: ROOT,
          outDir: path.join(app, 'dist'),
          typeRoots: [path.join(ROOT, 'node_modules/@types')],
          sourceMap: false,
        },
        include: [],
        files: [path.join(ROOT, 'scripts/sb.ts'), path.join(ROOT, 'scripts/commands/program.ts')],
      }),
    );
    await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfig], {
      cwd: ROOT,
      timeout: 150_000,
    });
    for (const top of ['src', 'workers']) copyLua(path.join(ROOT, top), path.join(app, 'dist'));
    cpSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
    for (const dir of productionClosure()) {
      const relative = path.relative(path.join(ROOT, 'node_modules'), dir);
      // Nested copies (a/node_modules/b) come with their parent's folder.
      if (relative.includes('node_modules')) continue;
      mkdirSync(path.dirname(path.join(app, 'node_modules', relative)), { recursive: true });
      symlinkSync(dir, path.join(app, 'node_modules', relative), 'dir');
    }
    bin = path.join(app, sbPath!);
    // As the Dockerfile does: executable, linked onto PATH as `sb`.
    chmodSync(bin, 0o755);
    binDir = path.join(tmp, 'bin');
    mkdirSync(binDir);
    symlinkSync(bin, path.join(binDir, 'sb'));
  }, 180_000);
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await deleteKeys(config.KEY_PREFIX);
  });

  /** `sb <args>` from PATH, in the app folder, with plain Node. */
  const sb = (args: string[]) =>
    spawnSync('sb', args, {
      cwd: app,
      encoding: 'utf8',
      timeout: 20_000,
      env: {
        ...configEnv(config),
        PATH: [binDir, path.dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
        NODE_OPTIONS: '--preserve-symlinks',
      },
    });

  it('is plain Node: a shebang, no tsx import, and tsx out of reach', () => {
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const compiled = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? compiled(path.join(dir, e.name))
          : e.name.endsWith('.js')
            ? [readFileSync(path.join(dir, e.name), 'utf8')]
            : [],
      );
    const files = compiled(path.join(app, 'dist'));
    expect(files.length).toBeGreaterThan(20);
    for (const text of files) expect(text).not.toMatch(/require\("tsx|from "tsx|import\("tsx/);
    // tsx (and the rest of the dev tooling) is not there, and does not resolve from the folder.
    expect(existsSync(path.join(app, 'node_modules', 'tsx'))).toBe(false);
    const probe = spawnSync(process.execPath, ['--preserve-symlinks', '-e', "require('tsx')"], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(probe.status).not.toBe(0);
    expect(probe.stderr).toContain("Cannot find module 'tsx'");
  });

  it('answers --help with exit 0', () => {
    const help = sb(['--help']);
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: sb');
    for (const command of ['throttle', 'emit', 'failed', 'queue', 'token', 'events'])
      expect(help.stdout).toContain(command);
  });

  it('runs a command against Redis', () => {
    const status = sb(['--json', 'queue', 'status']);
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
    const queues = (JSON.parse(status.stdout) as Array<{ queue: string }>).map((q) => q.queue);
    expect(queues).toEqual(expect.arrayContaining(['delivery', 'throttle', 'handlers']));
  });
});
