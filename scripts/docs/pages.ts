/**
 * Every page `npm run docs` writes, with the content it should have: docs/configuration.md whole,
 * and each page of docs/ (and README.md) that holds generated figure blocks, with those blocks
 * rendered afresh. test/docs compares this with the files as committed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { renderConfigurationPage } from './configuration';
import { blockNames, fillGeneratedBlocks, resultReader } from './figures';
import { CONFIGURATION_PAGE, DOCS_DIR, ROOT } from './paths';

/** README.md and every page of docs/, by absolute path. */
export function markdownPages(): string[] {
  const docs = readdirSync(DOCS_DIR)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => path.join(DOCS_DIR, name));
  return [path.join(ROOT, 'README.md'), ...docs];
}

/** Absolute path -> the content `npm run docs` gives it. */
export function generatedPages(): Map<string, string> {
  const pages = new Map<string, string>([[CONFIGURATION_PAGE, renderConfigurationPage()]]);
  const read = resultReader();
  for (const page of markdownPages()) {
    if (page === CONFIGURATION_PAGE) continue;
    const markdown = readFileSync(page, 'utf8');
    if (blockNames(markdown).length > 0) pages.set(page, fillGeneratedBlocks(markdown, read));
  }
  return pages;
}
