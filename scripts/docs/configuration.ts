/**
 * docs/configuration.md, generated from src/config.ts: the variables, their groups and comments are
 * read from the source with the TypeScript compiler API; type, default and allowed values come from
 * the zod schema itself (its JSON Schema, input side), so the page cannot drift from what a process
 * accepts.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { z } from 'zod';
import { ConfigSchema, DEV_JWT_SECRET, DEV_PUBLISH_TOKEN, loadConfig } from '../../src/config';
import { CONFIG_NOTES } from './config-notes';
import { code, linkDocPages, table } from './markdown';
import { CONFIG_SOURCE } from './paths';

/** One property of the `ConfigSchema` object literal, as the source declares it. */
export interface SourceVariable {
  name: string;
  /** The `// ---- name ----` separator above it, if any. */
  group: string | undefined;
  /** Its leading comment (JSDoc or `//`), flattened to one paragraph. */
  comment: string | undefined;
  /** Texts the schema answers a bad value with (`.refine(.., 'text')`, `message: 'text'`). */
  rules: string[];
}

/** A cross-field rule of the config: `problem('NAME', 'text')` in src/config.ts. */
export interface CrossFieldRule {
  name: string;
  rule: string;
}

export interface ConfigSource {
  variables: SourceVariable[];
  crossFieldRules: CrossFieldRule[];
}

const GROUP_SEPARATOR = /^\/\/\s*-{3,}\s*(.*?)\s*-*\s*$/;

/** Reads the variables of `ConfigSchema = z.object({...})` and the cross-field rules from the source. */
export function readConfigSource(sourceText: string, fileName = CONFIG_SOURCE): ConfigSource {
  const file = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.Latest, true);
  const shape = schemaObject(file);
  let group: string | undefined;
  const variables = shape.properties.map((property): SourceVariable => {
    if (!ts.isPropertyAssignment(property))
      throw new Error(`${fileName}: ConfigSchema holds a ${ts.SyntaxKind[property.kind]}`);
    const comments: string[] = [];
    for (const range of ts.getLeadingCommentRanges(sourceText, property.getFullStart()) ?? []) {
      const text = sourceText.slice(range.pos, range.end);
      const separator = GROUP_SEPARATOR.exec(text);
      if (separator) {
        group = separator[1];
        comments.length = 0; // a comment above a separator belongs to no variable
      } else comments.push(commentText(text));
    }
    return {
      name: property.name.getText(file),
      group,
      comment: comments.length > 0 ? comments.join(' ') : undefined,
      rules: ruleTexts(property.initializer),
    };
  });
  return { variables, crossFieldRules: crossFieldRules(file) };
}

function schemaObject(file: ts.SourceFile): ts.ObjectLiteralExpression {
  let found: ts.ObjectLiteralExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (
      ts.isVariableDeclaration(node) &&
      node.name.getText(file) === 'ConfigSchema' &&
      node.initializer
    ) {
      found = zodObjectArgument(node.initializer, file);
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (!found) throw new Error(`${file.fileName}: no \`ConfigSchema = z.object({ ... })\` found`);
  return found;
}

/** The object literal of the `z.object({...})` call an initializer is (or starts with). */
function zodObjectArgument(
  node: ts.Node,
  file: ts.SourceFile,
): ts.ObjectLiteralExpression | undefined {
  if (ts.isCallExpression(node)) {
    const argument = node.arguments[0];
    if (node.expression.getText(file) === 'z.object' && argument)
      return ts.isObjectLiteralExpression(argument) ? argument : undefined;
    if (ts.isPropertyAccessExpression(node.expression))
      return zodObjectArgument(node.expression.expression, file); // z.object({...}).strict()
  }
  return undefined;
}

function commentText(raw: string): string {
  const body = raw.startsWith('/*')
    ? raw
        .replace(/^\/\*\*?/, '')
        .replace(/\*\/$/, '')
        .split('\n')
        .map((line) => line.replace(/^\s*\* ?/, ''))
        .join('\n')
    : raw.replace(/^\/\/\s?/, '');
  return body.replace(/\s+/g, ' ').trim();
}

function stringValue(node: ts.Node | undefined): string | undefined {
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))
    ? node.text
    : undefined;
}

/** Messages a property's schema gives for a value its JSON Schema cannot describe. */
function ruleTexts(initializer: ts.Expression): string[] {
  const rules: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ['refine', 'regex'].includes(node.expression.name.text)
    ) {
      const message = stringValue(node.arguments[1]);
      if (message !== undefined) rules.push(message);
    }
    if (ts.isPropertyAssignment(node) && node.name.getText() === 'message') {
      const message = stringValue(node.initializer);
      if (message !== undefined) rules.push(message);
    }
    ts.forEachChild(node, visit);
  };
  visit(initializer);
  return [...new Set(rules)];
}

function crossFieldRules(file: ts.SourceFile): CrossFieldRule[] {
  const rules: CrossFieldRule[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.getText(file) === 'problem') {
      const name = stringValue(node.arguments[0]);
      const rule = stringValue(node.arguments[1]);
      if (name !== undefined && rule !== undefined) rules.push({ name, rule });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return rules;
}

/** What the JSON Schema of one property (input side) says; the fields this page shows. */
interface PropertySchema {
  type?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  minLength?: number;
  pattern?: string;
}

function propertySchemas(): Record<string, PropertySchema> {
  // Input side: what the environment may hold, before coercion and transforms.
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' });
  const schemas: Record<string, PropertySchema> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {}))
    if (typeof property === 'object') schemas[name] = property as PropertySchema;
  return schemas;
}

const DURATION_UNITS: [unit: string, ms: number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1000],
];
const SIZE_UNITS: [unit: string, bytes: number][] = [
  ['GiB', 1_073_741_824],
  ['MiB', 1_048_576],
  ['KiB', 1024],
];

/** `600000` of a `_MS` variable reads `600000` (10 min); `1048576` of a `_BYTES` one, 1 MiB. */
function amount(name: string, value: number): string {
  let units: [string, number][] = [];
  // One day reads better as 24 h; days only from two on.
  if (name.endsWith('_MS'))
    units = DURATION_UNITS.filter(([unit]) => unit !== 'd' || value >= 2 * 86_400_000);
  if (name.endsWith('_BYTES')) units = SIZE_UNITS;
  const fit = value > 0 ? units.find(([, size]) => value >= size && value % size === 0) : undefined;
  return fit ? `${code(String(value))} (${value / fit[1]} ${fit[0]})` : code(String(value));
}

const PUBLIC_DEFAULTS = new Set<unknown>([DEV_JWT_SECRET, DEV_PUBLISH_TOKEN]);

function defaultCell(name: string, schema: PropertySchema): string {
  const value = schema.default;
  if (value === undefined) return 'unset';
  if (value === '') return 'empty';
  if (typeof value === 'number') return amount(name, value);
  const shown = code(typeof value === 'string' ? value : JSON.stringify(value));
  return PUBLIC_DEFAULTS.has(value)
    ? `${shown} (public development default, refused when \`NODE_ENV=production\`)`
    : shown;
}

function allowedCell(variable: SourceVariable, schema: PropertySchema): string {
  const { name, rules } = variable;
  let base: string;
  if (schema.enum) base = `one of ${schema.enum.map((v) => code(String(v))).join(', ')}`;
  else if (schema.type === 'integer' || schema.type === 'number') {
    const kind = schema.type === 'integer' ? 'whole number' : 'number';
    base =
      schema.minimum !== undefined && schema.maximum !== undefined
        ? `${kind} from ${amount(name, schema.minimum)} to ${amount(name, schema.maximum)}`
        : kind;
  } else if (schema.type === 'string') {
    if (schema.minLength === 1) base = 'non-empty string';
    else if (schema.minLength !== undefined) base = `string of ${schema.minLength}+ characters`;
    else base = 'string';
    if (schema.pattern !== undefined && rules.length === 0)
      base += ` matching ${code(schema.pattern)}`;
  } else base = schema.type ?? 'any value';
  return [base, ...rules].join('; ');
}

/** What the page says a variable does: its source comment, else its note, else a loud gap. */
function descriptionOf(variable: SourceVariable): string | undefined {
  return variable.comment ?? CONFIG_NOTES[variable.name];
}

/** The first line of the error a process stops with on a bad value, made by the real loader. */
function exampleError(): string {
  try {
    loadConfig({ PORT: '70000' });
  } catch (err) {
    if (err instanceof Error) return err.message;
  }
  throw new Error('loadConfig accepted PORT=70000: pick another example of a bad value');
}

/** The group heading and its note: `identity (docs/auth.md)` -> `Identity`, `See docs/auth.md.` */
function groupHeading(group: string | undefined): { title: string; note: string | undefined } {
  if (group === undefined) return { title: 'General', note: undefined };
  const match = /^(.*?)\s*\((.*)\)$/.exec(group);
  const title = match?.[1] ?? group;
  const note = match?.[2];
  const capitalized = title.charAt(0).toUpperCase() + title.slice(1);
  if (note === undefined) return { title: capitalized, note: undefined };
  const sentence = /^docs\/[\w-]+\.md$/.test(note)
    ? `See ${note}.`
    : `${note.charAt(0).toUpperCase()}${note.slice(1)}.`;
  return { title: capitalized, note: linkDocPages(sentence) };
}

export function renderConfigurationPage(sourceText = readFileSync(CONFIG_SOURCE, 'utf8')): string {
  const { variables, crossFieldRules: rules } = readConfigSource(sourceText);
  const schemas = propertySchemas();
  const groups = new Map<string | undefined, SourceVariable[]>();
  for (const variable of variables) {
    const list = groups.get(variable.group) ?? [];
    list.push(variable);
    groups.set(variable.group, list);
  }

  const sections = [...groups].map(([group, list]) => {
    const { title, note } = groupHeading(group);
    const rows = list.map((variable) => {
      const schema = schemas[variable.name];
      if (!schema) throw new Error(`ConfigSchema has no JSON Schema for ${variable.name}`);
      return [
        code(variable.name),
        defaultCell(variable.name, schema),
        allowedCell(variable, schema),
        linkDocPages(descriptionOf(variable) ?? '(not described)'),
      ];
    });
    const parts = [
      `## ${title}`,
      ...(note ? [note] : []),
      table(['variable', 'default', 'allowed values', 'what it does'], rows),
    ];
    return parts.join('\n\n');
  });

  const crossField = rules.map(({ name, rule }) => `- ${code(name)} ${rule}`);
  return [
    '# Configuration',
    '',
    'Every environment variable Switchboard reads. Generated by `npm run docs` from `src/config.ts` (its zod schema and its comments): do not edit this page by hand. Part of the [docs map](../README.md#map).',
    '',
    'Settings are environment variables, validated once by zod when a process starts. A bad value',
    'stops the process with one line naming it, e.g.',
    `${code(exampleError())}.`,
    'An empty value counts as unset. The defaults of `JWT_SECRET` and `PUBLISH_TOKEN` below are',
    'public development values, so that `npm start` works as it is; `NODE_ENV=production` refuses',
    'them ([security.md](security.md)).',
    '',
    sections.join('\n\n'),
    '',
    '## Checked together',
    '',
    'Rules across variables, checked after each one is valid (in production every secret must also',
    'be no published placeholder, have enough entropy, and differ from the other secrets):',
    '',
    ...crossField,
    '',
  ].join('\n');
}
