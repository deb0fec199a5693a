/**
 * `npm run docs`: regenerates docs/configuration.md, the benchmark figures of the docs and the
 * benchmark charts (bench/results/*.svg).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatedCharts } from './charts';
import { generatedPages } from './pages';
import { ROOT } from './paths';

for (const [page, content] of [...generatedCharts(), ...generatedPages()]) {
  const name = path.relative(ROOT, page);
  if (existsSync(page) && readFileSync(page, 'utf8') === content) {
    process.stdout.write(`docs: ${name} up to date\n`);
  } else {
    writeFileSync(page, content);
    process.stdout.write(`docs: ${name} written\n`);
  }
}
