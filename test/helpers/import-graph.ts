import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import of a src/ file: what it names, and whether it is used as a value at run time. */
export interface ImportEdge {
  /** The importing file, relative to the repo root (`src/gateway/server.ts`). */
  from: string;
  /** The imported file relative to the repo root, or the package name for a bare specifier. */
  to: string;
  /** A package (`zod`, `node:http`), not a file of this repo. */
  external: boolean;
  /** False for `import type`, `export type` and imports whose every name is `type`. */
  value: boolean;
}

/** The folder of src/ a file belongs to (`gateway`), or the root file itself (`config`). */
export function unitOf(file: string): string {
  const parts = path.relative('src', file).split(path.sep);
  return parts.length > 1 ? (parts[0] as string) : (parts[0] as string).replace(/\.ts$/, '');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory()
      ? filesUnder(full)
      : full.endsWith('.ts') && !full.endsWith('.d.ts')
        ? [full]
        : [];
  });
}

function resolve(root: string, from: string, spec: string): string | undefined {
  const base = path.join(path.dirname(path.join(root, from)), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && statSync(candidate).isFile())
      return path.relative(root, candidate);
  }
  return undefined;
}

/** Every static import and re-export of the .ts files under `root`/src, parsed with the TypeScript compiler. */
export function importGraph(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const full of filesUnder(path.join(root, 'src'))) {
    const from = path.relative(root, full);
    const source = ts.createSourceFile(
      full,
      readFileSync(full, 'utf8'),
      ts.ScriptTarget.Latest,
      false,
    );
    for (const node of source.statements) {
      let spec: string | undefined;
      let value = true;
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        spec = node.moduleSpecifier.text;
        const clause = node.importClause;
        if (clause?.phaseModifier === ts.SyntaxKind.TypeKeyword) value = false;
        else if (
          clause &&
          !clause.name &&
          clause.namedBindings &&
          ts.isNamedImports(clause.namedBindings)
        ) {
          const names = clause.namedBindings.elements;
          value = names.length === 0 || names.some((n) => !n.isTypeOnly);
        }
      } else if (
        ts.isExportDeclaration(node) &&
        node.moduleSpecifier &&
        ts.isStringLiteral(node.moduleSpecifier)
      ) {
        spec = node.moduleSpecifier.text;
        const clause = node.exportClause;
        value =
          !node.isTypeOnly &&
          !(
            clause &&
            ts.isNamedExports(clause) &&
            clause.elements.length > 0 &&
            clause.elements.every((e) => e.isTypeOnly)
          );
      }
      if (spec === undefined) continue;
      if (!spec.startsWith('.')) {
        edges.push({ from, to: spec, external: true, value });
        continue;
      }
      const to = resolve(root, from, spec);
      if (to === undefined) throw new Error(`${from}: cannot resolve ${spec}`);
      edges.push({ from, to, external: false, value });
    }
  }
  return edges;
}

/** The cycles (strongly connected components of more than one unit) of the value imports between units of src/. */
export function unitCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!e.value || e.external || !e.to.startsWith(`src${path.sep}`)) continue;
    const [a, b] = [unitOf(e.from), unitOf(e.to)];
    if (a !== b) next.set(a, (next.get(a) ?? new Set()).add(b));
  }
  // Tarjan's algorithm, iterative enough for a few dozen units.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (stack.includes(w))
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop())
        component.push(w);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return cycles;
}
