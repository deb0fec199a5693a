import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One relative link of a Markdown page: `[text](target)` or `![alt](target)`. */
export interface PageLink {
  page: string;
  target: string;
}

/** The page without fenced code blocks and inline code, where a `[x](y)` is text, not a link. */
function proseOf(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The relative links of a page (no scheme: http, https, mailto are someone else's to keep). */
export function relativeLinks(page: string, markdown: string): PageLink[] {
  return [...proseOf(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((match) => match[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => ({ page, target }));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
export function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a page's headings get, duplicates numbered as GitHub numbers them (`x`, `x-1`). */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} +(.+?) *$/gm)) {
    const slug = slugOf(match[1] ?? '');
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/** Why a link leads nowhere, or undefined when its file (and heading, for `#x`) exists. */
export function brokenReason(
  link: PageLink,
  readPage = (file: string) => readFileSync(file, 'utf8'),
): string | undefined {
  const [file = '', anchor] = link.target.split('#', 2);
  const resolved = file === '' ? link.page : path.resolve(path.dirname(link.page), decodeURI(file));
  if (!existsSync(resolved)) return `no file ${path.relative(path.dirname(link.page), resolved)}`;
  if (anchor === undefined || !resolved.endsWith('.md')) return undefined;
  return anchorsOf(readPage(resolved)).has(anchor)
    ? undefined
    : `no heading #${anchor} in ${path.basename(resolved)}`;
}
