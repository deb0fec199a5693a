import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildPackages, PACKAGES } from './build';

/** `npm run pack`: builds the workspace packages and writes their tarballs to dist/packages/. */
const root = path.resolve(__dirname, '..', '..');
export const PACK_DIR = path.join(root, 'dist', 'packages');

export async function packPackages(): Promise<string[]> {
  await buildPackages();
  mkdirSync(PACK_DIR, { recursive: true });
  const workspaces = Object.keys(PACKAGES).flatMap((name) => ['--workspace', `packages/${name}`]);
  const out = execFileSync(
    'npm',
    ['pack', ...workspaces, '--pack-destination', PACK_DIR, '--json', '--silent'],
    { cwd: root, encoding: 'utf8' },
  );
  return (JSON.parse(out) as Array<{ filename: string }>).map((p) =>
    path.join(PACK_DIR, p.filename),
  );
}

if (require.main === module)
  packPackages().then(
    (files) => process.stdout.write(`${files.map((f) => path.relative(root, f)).join('\n')}\n`),
    (err: unknown) => {
      process.stderr.write(`pack: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
