/** Small Markdown builders shared by the docs generators, so every generated table looks alike. */

/** A cell's text on one line, with the characters that would end a table cell escaped. */
export function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

/** `text` as inline code (cells escape its pipes; Markdown renders `\|` as `|` inside a table). */
export function code(text: string): string {
  return `\`${text}\``;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** `docs/auth.md` in a text that ends up in docs/ becomes a link to the page beside it. */
export function linkDocPages(text: string): string {
  return text.replace(/`?docs\/([\w-]+\.md)`?/g, '[$1]($1)');
}
