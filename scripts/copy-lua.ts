import { cpSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Build step after tsc: copies every `lua/` folder under src/ and workers/ to the same place under
 * dist/, where the compiled modules read their scripts from.
 */
const root = path.resolve(__dirname, '..', '..');

function copyLuaFolders(dir: string): number {
  let copied = 0;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (!statSync(full).isDirectory()) continue;
    if (name === 'lua') {
      cpSync(full, path.join(root, 'dist', path.relative(root, full)), { recursive: true });
      copied++;
    } else copied += copyLuaFolders(full);
  }
  return copied;
}

for (const top of ['src', 'workers']) copyLuaFolders(path.join(root, top));
