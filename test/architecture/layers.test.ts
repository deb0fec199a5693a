import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { importGraph, unitCycles, unitOf, type ImportEdge } from '../helpers/import-graph';
import { ROOT } from '../helpers/stack';

/**
 * The folder graph of src/ as the architecture says it is (docs/architecture.md, Layers), checked on every
 * `npm test`: no value-level cycle between folders, the leaves (catalog, wire) import nothing above
 * them, the client library runs nothing of the server but the protocol constants, and the
 * composition root (src/app/) is imported by no layer it composes.
 */
const edges = importGraph(ROOT);
const values = edges.filter((e) => e.value);
const show = (list: readonly ImportEdge[]) => list.map((e) => `${e.from} -> ${e.to}`);
const inUnit = (unit: string) => (e: ImportEdge) => unitOf(e.from) === unit;
const toUnit = (e: ImportEdge) => (e.external ? undefined : unitOf(e.to));

describe('the folder graph of src/', () => {
  it('is parsed from every file (the graph knows imports it must see)', () => {
    expect(
      values.some(
        (e) => e.from === path.join('src', 'gateway', 'server.ts') && e.to === 'socket.io',
      ),
    ).toBe(true);
    expect(edges.some((e) => !e.value && e.from.startsWith(path.join('src', 'gateway')))).toBe(
      true,
    );
    expect(new Set(edges.map((e) => unitOf(e.from))).size).toBeGreaterThan(20);
  });

  it('has no value-level cycle between folders', () => {
    expect(unitCycles(edges)).toEqual([]);
  });

  it('keeps the catalog a leaf: ids, errors, same-shape, zod and node: built-ins only', () => {
    const allowed = new Set(['catalog', 'ids', 'errors', 'same-shape']);
    const out = values
      .filter(inUnit('catalog'))
      .filter((e) =>
        e.external
          ? e.to !== 'zod' && !e.to.startsWith('node:')
          : !allowed.has(toUnit(e) as string),
      );
    expect(show(out)).toEqual([]);
  });

  it('keeps wire/ a leaf: the catalog, ids, the error shape, zod and the codecs only; wire/protocol.ts imports nothing', () => {
    // error-body: the error codes and the error body's type, a root file that imports nothing.
    const units = new Set(['wire', 'catalog', 'ids', 'error-body']);
    const packages = new Set(['zod', 'msgpackr', 'notepack.io']);
    const out = edges
      .filter(inUnit('wire'))
      .filter((e) =>
        e.external
          ? !packages.has(e.to) && !e.to.startsWith('node:')
          : !units.has(toUnit(e) as string),
      );
    expect(show(out)).toEqual([]);
    expect(show(edges.filter((e) => e.from === path.join('src', 'wire', 'protocol.ts')))).toEqual(
      [],
    );
  });

  it('lets the client library run nothing of the server but the protocol constants and the room table, and no package but socket.io-client', () => {
    const shared = new Set(
      [
        ['wire', 'protocol.ts'],
        ['catalog', 'room-kinds.ts'],
        ['catalog', 'namespaces.ts'],
      ].map((parts) => path.join('src', ...parts)),
    );
    const out = values
      .filter(inUnit('client'))
      .filter((e) => !e.from.endsWith('.mjs'))
      .filter((e) =>
        e.external ? e.to !== 'socket.io-client' : toUnit(e) !== 'client' && !shared.has(e.to),
      );
    expect(show(out)).toEqual([]);
    // What the client runs of the server runs nothing else.
    expect(show(values.filter((e) => shared.has(e.from)))).toEqual([]);
    expect(values.some((e) => unitOf(e.from) === 'client' && shared.has(e.to))).toBe(true);
  });

  it('keeps the files at the root of src/ (config, errors, ids, logger, the Runtime shape) off every folder at run time', () => {
    const atRoot = (file: string) => path.dirname(file) === 'src';
    const out = values.filter((e) => atRoot(e.from) && !e.external && !atRoot(e.to));
    expect(show(out)).toEqual([]);
  });

  it('imports the composition root (src/app/) from nowhere inside src/ but itself', () => {
    expect(show(edges.filter((e) => toUnit(e) === 'app' && unitOf(e.from) !== 'app'))).toEqual([]);
  });

  it('keeps the gateway off the HTTP app and the HTTP app off the documents that describe it', () => {
    const out = values.filter(
      (e) =>
        (unitOf(e.from) === 'gateway' && ['api', 'specs'].includes(toUnit(e) as string)) ||
        (unitOf(e.from) === 'api' && toUnit(e) === 'specs'),
    );
    expect(show(out)).toEqual([]);
  });

  it('opens keys and event queues in the composition root only, and every BullMQ queue through openQueue', () => {
    const files = [...new Set(edges.map((e) => e.from))];
    const calls = (pattern: RegExp) =>
      files.filter((f) => pattern.test(readFileSync(path.join(ROOT, f), 'utf8')));
    expect(calls(/\bcreateKeys\(/).filter((f) => unitOf(f) !== 'app')).toEqual([
      path.join('src', 'redis', 'keys.ts'),
    ]);
    expect(calls(/\bopenEventQueues\(/).filter((f) => unitOf(f) !== 'app')).toEqual([
      path.join('src', 'redis', 'queue.ts'),
    ]);
    expect(calls(/\bnew Queue\(/)).toEqual([path.join('src', 'redis', 'queue.ts')]);
    expect(calls(/\bcreateKeys\(/).filter((f) => unitOf(f) === 'app').length).toBeGreaterThan(0);
  });

  it('names every folder of test/ after what it tests: a folder of src/ (or workers/), or a whole-product suite', () => {
    const dirs = (root: string) =>
      readdirSync(path.join(ROOT, root)).filter((n) =>
        statSync(path.join(ROOT, root, n)).isDirectory(),
      );
    const units = new Set([...new Set(edges.map((e) => unitOf(e.from)))]);
    // Suites that run the product as a whole (or check it from outside), and what they share.
    const suites = new Set([
      'architecture',
      'cluster',
      'deploy',
      'docs',
      'e2e',
      'examples',
      'fault',
      'hostile',
      'packages',
      'production',
      'scale',
      'types',
      'workers',
      'helpers',
      'fixtures',
      'artifacts',
    ]);
    const unexplained = dirs('test').filter((d) => !units.has(d) && !suites.has(d));
    expect(unexplained).toEqual([]);
    expect(dirs('test').filter((d) => units.has(d)).length).toBeGreaterThan(15);
  });
});
