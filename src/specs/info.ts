import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CATALOG_VERSION } from '../catalog/version';

/** The package's version, found from this file up (the same from src/ under tsx and from dist/). */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'switchboard' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

/** What both documents say about themselves: the package version and the catalog's fingerprint. */
export function specVersions(): { version: string; 'x-switchboard-catalog-version': string } {
  return { version: packageVersion(), 'x-switchboard-catalog-version': CATALOG_VERSION };
}
