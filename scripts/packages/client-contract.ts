import path from 'node:path';
import ts from 'typescript';
import { NAMESPACES } from '../../src/catalog/namespaces';

/**
 * Writes src/client/contract.ts as plain types for the @switchboard/client package: every name the
 * in-repo file re-exports (computed from zod schemas through the catalog and the namespace modules)
 * resolved by the TypeScript checker and printed structurally. The published declarations then
 * import nothing but socket.io-client, and a consumer needs neither zod nor the server's sources.
 */

/** zod-free types the library ships anyway: printed by name and imported, not expanded. */
const SHARED: Partial<Record<string, string>> = {
  EventMeta: '../catalog/event-meta',
  Namespace: '../catalog/namespaces',
  Ack: '../wire/ack',
  AckOk: '../wire/ack',
  AckError: '../wire/ack',
  ErrorBody: '../error-body',
  ErrorCode: '../error-body',
  ErrorIssue: '../error-body',
};

// Combined flags are a number to the compiler API's enum type; the cast says so once.
const FLAGS = (ts.TypeFormatFlags.NoTruncation |
  ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType) as ts.TypeFormatFlags;

class Printer {
  readonly used = new Set<string>();
  private readonly stack = new Set<ts.Type>();

  constructor(private readonly checker: ts.TypeChecker) {}

  type(t: ts.Type): string {
    const shared = this.sharedName(t);
    if (shared) return shared;
    if (t.isUnion()) return this.union(t.types);
    if (t.isIntersection()) return t.types.map((p) => this.wrap(p)).join(' & ');
    if (!(t.flags & ts.TypeFlags.Object)) return this.checker.typeToString(t, undefined, FLAGS);
    if (this.stack.has(t)) throw new Error(`recursive type ${this.checker.typeToString(t)}`);
    this.stack.add(t);
    try {
      return this.object(t as ts.ObjectType);
    } finally {
      this.stack.delete(t);
    }
  }

  /** A zod-free shared type (EventMeta, Ack<T>, ...) keeps its name; its arguments are printed. */
  private sharedName(t: ts.Type): string | undefined {
    const alias = t.aliasSymbol;
    const symbol = alias ?? t.getSymbol();
    const name = symbol?.getName();
    const home = name === undefined ? undefined : SHARED[name];
    if (!symbol || !name || !home) return undefined;
    // Only the shared declaration itself, not a type of the same name elsewhere.
    const declared = symbol.declarations?.[0]?.getSourceFile().fileName ?? '';
    if (!declared.endsWith(`${home.replace('../', '')}.ts`)) return undefined;
    this.used.add(name);
    const args = alias
      ? t.aliasTypeArguments
      : (t as Partial<ts.TypeReference>).target
        ? this.checker.getTypeArguments(t as ts.TypeReference)
        : undefined;
    return args && args.length > 0 ? `${name}<${args.map((a) => this.type(a)).join(', ')}>` : name;
  }

  private union(types: readonly ts.Type[]): string {
    // `true | false` prints as boolean, as the source says it.
    const isBool = (x: ts.Type) => (x.flags & ts.TypeFlags.BooleanLiteral) !== 0;
    const bools = types.filter(isBool);
    const rest = types.filter((x) => !isBool(x)).map((x) => this.wrap(x));
    return [...(bools.length === 2 ? ['boolean'] : bools.map((b) => this.type(b))), ...rest].join(
      ' | ',
    );
  }

  private wrap(t: ts.Type): string {
    const printed = this.type(t);
    return t.isUnion() || t.isIntersection() || this.isFunction(t) ? `(${printed})` : printed;
  }

  private isFunction(t: ts.Type): boolean {
    return (
      (t.flags & ts.TypeFlags.Object) !== 0 &&
      t.getCallSignatures().length > 0 &&
      t.getProperties().length === 0
    );
  }

  private object(t: ts.ObjectType): string {
    const c = this.checker;
    if (c.isArrayType(t)) {
      const [element] = c.getTypeArguments(t as ts.TypeReference);
      const readonly = t.getSymbol()?.getName() === 'ReadonlyArray' ? 'readonly ' : '';
      return `${readonly}${this.wrap(must(element, 'array element'))}[]`;
    }
    if (c.isTupleType(t))
      return `[${c
        .getTypeArguments(t as ts.TypeReference)
        .map((e) => this.type(e))
        .join(', ')}]`;
    const calls = t.getCallSignatures();
    if (calls.length > 0 && t.getProperties().length === 0) {
      if (calls.length > 1) throw new Error(`overloaded function ${c.typeToString(t)}`);
      return this.signature(must(calls[0], 'signature'));
    }
    const members: string[] = [];
    for (const info of c.getIndexInfosOfType(t))
      members.push(
        `${info.isReadonly ? 'readonly ' : ''}[key: ${this.type(info.keyType)}]: ${this.type(info.type)};`,
      );
    for (const prop of t.getProperties()) {
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      let propType = c.getTypeOfSymbol(prop);
      if (optional) propType = strip(c, propType);
      const readonly = isReadonly(prop) ? 'readonly ' : '';
      members.push(
        `${readonly}${key(prop.getName())}${optional ? '?' : ''}: ${this.type(propType)};`,
      );
    }
    return members.length === 0 ? '{}' : `{ ${members.join(' ')} }`;
  }

  private signature(sig: ts.Signature): string {
    const params = sig.getParameters().map((p) => {
      const decl = p.valueDeclaration;
      const optional = decl && ts.isParameter(decl) && (decl.questionToken || decl.initializer);
      const type = this.checker.getTypeOfSymbol(p);
      return `${p.getName()}${optional ? '?' : ''}: ${this.type(optional ? strip(this.checker, type) : type)}`;
    });
    return `(${params.join(', ')}) => ${this.type(sig.getReturnType())}`;
  }
}

/** An optional member's type without the `undefined` the checker adds to it. */
function strip(c: ts.TypeChecker, t: ts.Type): ts.Type {
  if (!t.isUnion()) return t;
  const kept = t.types.filter((x) => !(x.flags & ts.TypeFlags.Undefined));
  if (kept.length === t.types.length) return t;
  // Rebuild through the checker's own union of what is left.
  return kept.length === 1
    ? must(kept[0], 'member')
    : (c as unknown as { getUnionType(types: ts.Type[]): ts.Type }).getUnionType(kept);
}

function isReadonly(prop: ts.Symbol): boolean {
  const decl = prop.valueDeclaration ?? prop.declarations?.[0];
  return (
    decl !== undefined && (ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Readonly) !== 0
  );
}

/** A value the compiler API always gives for the types printed here; a clear error if not. */
function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`client contract: no ${what}`);
  return value;
}

function key(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

/** The generated file's text, for the repo at `root`. */
export function clientContractSource(root: string): string {
  const probe = path.join(root, 'src', 'client', '__contract_probe__.ts');
  const names = NAMESPACES.map((ns, i) => ({ ns, i }));
  const probeText = [
    "import type { ClientActionsOf, DeliveredData, EventName, ServerEventsOf } from './contract';",
    'export type Names = EventName;',
    'export type Delivered = { [E in EventName]: DeliveredData<E> };',
    ...names.map(({ ns, i }) => `export type Server${i} = ServerEventsOf<'${ns}'>;`),
    ...names.map(({ ns, i }) => `export type Actions${i} = ClientActionsOf<'${ns}'>;`),
  ].join('\n');
  // The repo's own compiler options, so the types resolve exactly as `npm run typecheck` sees them.
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  const options: ts.CompilerOptions = { ...must(parsed, 'tsconfig.json').options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (file) => (path.resolve(file) === probe ? probeText : read(file));
  const exists = host.fileExists.bind(host);
  host.fileExists = (file) => path.resolve(file) === probe || exists(file);
  const getSource = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang) =>
    path.resolve(file) === probe
      ? ts.createSourceFile(file, probeText, lang, true)
      : getSource(file, lang);
  const program = ts.createProgram([probe], options, host);
  const errors = ts.getPreEmitDiagnostics(program);
  if (errors.length > 0)
    throw new Error(ts.formatDiagnostics(errors, { ...host, getNewLine: () => '\n' }));
  const checker = program.getTypeChecker();
  const file = must(program.getSourceFile(probe), 'probe');
  const alias = (name: string): ts.Type => {
    const symbol = checker
      .getExportsOfModule(must(checker.getSymbolAtLocation(file), 'probe module'))
      .find((s) => s.getName() === name);
    return checker.getDeclaredTypeOfSymbol(must(symbol, name));
  };
  const printer = new Printer(checker);
  const members = (t: ts.Type) =>
    t
      .getProperties()
      .map((p) => `    ${key(p.getName())}: ${printer.type(checker.getTypeOfSymbol(p))};`)
      .join('\n');
  const map = (prefix: string, print = members) =>
    names.map(({ ns, i }) => `  '${ns}': {\n${print(alias(`${prefix}${i}`))}\n  };`).join('\n');
  /** An action `(payload: P, ack: (res: Ack<R>) => void) => void` as `{ payload: P; result: R }`. */
  const action = (fn: ts.Type): string => {
    const [payload, ack] = must(fn.getCallSignatures()[0], 'action').getParameters();
    const ackCall = must(checker.getTypeOfSymbol(must(ack, 'ack')).getCallSignatures()[0], 'ack');
    const res = checker.getTypeOfSymbol(must(ackCall.getParameters()[0], 'ack argument'));
    const result = res.aliasSymbol?.getName() === 'Ack' ? res.aliasTypeArguments?.[0] : undefined;
    if (!result) throw new Error(`an action's ack is not an Ack<T>: ${checker.typeToString(res)}`);
    return `{ payload: ${printer.type(checker.getTypeOfSymbol(must(payload, 'payload')))}; result: ${printer.type(result)} }`;
  };
  const actionMembers = (t: ts.Type) =>
    t
      .getProperties()
      .map((p) => `    ${key(p.getName())}: ${action(checker.getTypeOfSymbol(p))};`)
      .join('\n');

  const eventNames = printer.type(alias('Names'));
  const delivered = members(alias('Delivered')).replace(/^ {2}/gm, '');
  const servers = map('Server');
  const actions = map('Actions', actionMembers);
  printer.used.add('Ack');
  const imports = [...printer.used]
    .sort()
    .map((n) => `import type { ${n} } from '${must(SHARED[n], n)}';`);
  return [
    '// Generated by scripts/packages/client-contract.ts from the catalog and the namespace',
    '// modules for the @switchboard/client package: the in-repo src/client/contract.ts with every',
    '// type resolved. Do not edit; `npm run pack` writes it again.',
    ...imports,
    "import type { Namespace as NamespaceName } from '../catalog/namespaces';",
    '',
    `export type EventName = ${eventNames};`,
    '',
    '/** What a client receives per event: a `batch` event as `{ items }`, every other as its payload. */',
    `interface DeliveredMap {\n${delivered}\n}`,
    'export type DeliveredData<E extends EventName> = DeliveredMap[E];',
    '',
    '/** Everything a client of a namespace can receive: catalog, relayed and system events. */',
    `interface ServerEventsMap {\n${servers}\n}`,
    'export type ServerEventsOf<NS extends NamespaceName> = ServerEventsMap[NS];',
    '',
    "/** Each namespace's client actions: the payload, and the data of a successful ack. */",
    `interface ClientActionsMap {\n${actions}\n}`,
    // Built through a conditional, as the in-repo type is: for a generic NS and action, TypeScript
    // then still sees a function with an ack callback (the library's Parameters<> of it compile).
    'export type ClientActionsOf<NS extends NamespaceName> = {',
    '  [A in keyof ClientActionsMap[NS] & string]: ClientActionsMap[NS][A] extends {',
    '    payload: infer P;',
    '    result: infer R;',
    '  }',
    '    ? (payload: P, ack: (res: Ack<R>) => void) => void',
    '    : never;',
    '};',
    '',
  ].join('\n');
}
