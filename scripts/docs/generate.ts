/** `npm run docs`: regenerates docs/configuration.md and the benchmark figures of the docs. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatedPages } from './pages';
import { ROOT } from './paths';

for (const [page, content] of generatedPages()) {
  const name = path.relative(ROOT, page);
  if (existsSync(page) && readFileSync(page, 'utf8') === content) {
    process.stdout.write(`docs: ${name} up to date\n`);
  } else {
    writeFileSync(page, content);
    process.stdout.write(`docs: ${name} written\n`);
  }
}
