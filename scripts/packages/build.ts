import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { build } from 'tsup';
import { clientContractSource } from './client-contract';

/**
 * Builds the workspace packages from the repo's own sources (one implementation, bundled):
 * - packages/client/dist: src/client, with src/client/contract.ts swapped for its resolved form,
 *   so the bundled declarations import socket.io-client and nothing else;
 * - packages/publisher/dist: src/app/publisher.ts with the EventManager, catalog and Lua scripts.
 * ESM and CommonJS, each with bundled declarations. `npm run pack` runs it, then packs both.
 */
const root = path.resolve(__dirname, '..', '..');
const stage = path.join(root, 'dist', 'packages-build');

export const PACKAGES = {
  client: { entry: 'src/client/index.ts', external: ['socket.io-client'], platform: 'neutral' },
  publisher: {
    entry: 'src/app/publisher.ts',
    // proxy-addr: the config module validates TRUST_PROXY with it (one small package).
    external: ['bullmq', 'ioredis', 'pino', 'proxy-addr', 'zod'],
    platform: 'node',
  },
} as const;

/** A copy of src/ with the client's contract resolved: what both bundles are built from. */
function stageSources(): void {
  rmSync(stage, { recursive: true, force: true });
  cpSync(path.join(root, 'src'), path.join(stage, 'src'), { recursive: true });
  writeFileSync(path.join(stage, 'src', 'client', 'contract.ts'), clientContractSource(root));
  // The repo's compiler options, for the declaration bundler.
  writeFileSync(
    path.join(stage, 'tsconfig.json'),
    JSON.stringify({ extends: path.join(root, 'tsconfig.json'), include: ['src'], exclude: [] }),
  );
}

/** Every `lua/` folder next to a bundled module, into dist/lua (where the bundle's __dirname is). */
function copyLua(inputs: string[], outDir: string): void {
  const target = path.join(outDir, 'lua');
  const seen = new Map<string, string>();
  for (const dir of new Set(inputs.map((f) => path.join(path.dirname(f), 'lua')))) {
    if (!existsSync(dir)) continue;
    mkdirSync(target, { recursive: true });
    for (const name of readdirSync(dir)) {
      const from = seen.get(name);
      if (from && from !== dir) throw new Error(`lua script ${name} is in both ${from} and ${dir}`);
      seen.set(name, dir);
      copyFileSync(path.join(dir, name), path.join(target, name));
    }
  }
}

export async function buildPackages(): Promise<void> {
  stageSources();
  for (const [name, spec] of Object.entries(PACKAGES)) {
    const outDir = path.join(root, 'packages', name, 'dist');
    rmSync(outDir, { recursive: true, force: true });
    const inputs = new Set<string>();
    const externals = new Set<string>();
    await build({
      entry: { index: path.join(stage, spec.entry) },
      outDir,
      format: ['esm', 'cjs'],
      // The packages are "type": "module": .js is ESM, .cjs CommonJS (declarations follow).
      outExtension: ({ format }) => ({ js: format === 'esm' ? '.js' : '.cjs' }),
      dts: true,
      tsconfig: path.join(stage, 'tsconfig.json'),
      platform: spec.platform,
      target: 'es2022',
      external: [...spec.external],
      treeshake: true,
      splitting: false,
      sourcemap: false,
      shims: true,
      metafile: true,
      silent: true,
      esbuildPlugins: [
        {
          name: 'inputs',
          setup(b) {
            b.onEnd((result) => {
              for (const file of Object.keys(result.metafile?.inputs ?? {}))
                inputs.add(path.resolve(file));
              for (const output of Object.values(result.metafile?.outputs ?? {}))
                for (const { path: spec, external } of output.imports)
                  if (external) externals.add(spec);
            });
          },
        },
      ],
    });
    // A bare import the package does not depend on would break in a user's install.
    const deps = new Set<string>(spec.external);
    const stray = [...externals].filter((imported) => {
      if (imported.startsWith('node:') || builtinModules.includes(imported)) return false;
      const pkg = imported
        .split('/')
        .slice(0, imported.startsWith('@') ? 2 : 1)
        .join('/');
      return !deps.has(pkg);
    });
    if (stray.length > 0)
      throw new Error(`${name} imports packages it does not depend on: ${stray.join(', ')}`);
    copyLua([...inputs], outDir);
    for (const file of readdirSync(outDir))
      if (file.startsWith('metafile-')) rmSync(path.join(outDir, file));
    // tsup names declarations after the repo's own "type" (CommonJS): rename them for the
    // packages' ESM-first layout, index.d.ts beside index.js and index.d.cts beside index.cjs.
    renameSync(path.join(outDir, 'index.d.ts'), path.join(outDir, 'index.d.cts'));
    renameSync(path.join(outDir, 'index.d.mts'), path.join(outDir, 'index.d.ts'));
  }
}

if (require.main === module)
  buildPackages().catch((err: unknown) => {
    process.stderr.write(`packages: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
