/**
 * Where the memory of N connections goes: the difference between two V8 heap snapshots of one
 * process (the `.heapsnapshot` JSON of v8.writeHeapSnapshot or --heapsnapshot-signal), one with
 * no connection and one with N, aggregated and divided by N.
 *
 * `node heapsnap.js <base.heapsnapshot> <with-n.heapsnapshot> <n> <out.json>` writes a
 * HeapDiff; diffSnapshots() does the same in-process. Snapshots of a few hundred MB need a larger
 * heap than the default (run with --max-old-space-size).
 *
 * Groupings (each a list of { name, bytes, count } per connection, biggest first):
 * - byClass: objects by constructor name (as DevTools' "Constructor" column), closures by function
 *   name `(closure) f`, internal arrays by their name `(array) (object properties)`, V8 internals
 *   (`system / Context`, `system / Map`, ...) by name, and every kind of string as `(string)`.
 * - byType: the snapshot's node types (object, closure, string, array, hidden, native, code, ...).
 * - objectShapes: objects by constructor name and their first property names, e.g.
 *   `Object{id,roles,anonymous}`: which plain object, and which of two classes with one name.
 * - stringsByRetainer / plainObjectsByRetainer / closuresByRetainer / internalArraysByRetainer:
 *   strings, plain Objects and Arrays, functions (event listeners, bound functions) and V8's
 *   internal arrays (property and element stores, Map/Set tables) by what holds them,
 *   `Owner.property` (through internal arrays, contexts and plain objects to the owning object);
 *   strings with one example value.
 * Only self sizes: what each object itself occupies on the V8 heap; the sum over every kind is the
 * heap's growth. Memory outside the V8 heap (malloc'd by Node, libuv, ws buffers) appears only
 * where Node reports it as `native` nodes.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';

interface Snapshot {
  nodes: number[];
  edges: number[];
  strings: string[];
  nodeFieldCount: number;
  edgeFieldCount: number;
  nodeTypes: string[];
  edgeTypes: string[];
  f: { type: number; name: number; size: number; edgeCount: number };
  e: { type: number; name: number; to: number };
}

interface Agg {
  bytes: number;
  count: number;
  example?: string;
}

export interface HeapRow {
  name: string;
  /** Bytes per connection (self size on the V8 heap), growth from the base snapshot divided by N. */
  bytes: number;
  /** Objects per connection. */
  count: number;
  example?: string;
}

export interface HeapDiff {
  connections: number;
  files: { base: string; withConnections: string; baseMiB: number; withConnectionsMiB: number };
  /** Sum of every node's self size in each snapshot, and the growth per connection. */
  heapBytes: { base: number; withConnections: number; perConnection: number };
  byClass: HeapRow[];
  byType: HeapRow[];
  objectShapes: HeapRow[];
  stringsByRetainer: HeapRow[];
  plainObjectsByRetainer: HeapRow[];
  closuresByRetainer: HeapRow[];
  internalArraysByRetainer: HeapRow[];
  /**
   * Objects by shape (as objectShapes) with their retained size (dominator tree): what one
   * connection's net.Socket, engine.io Socket, IncomingMessage, ... keep alive that nothing else
   * does. Shapes of at least 0.5 new objects per connection. Retained sizes of different shapes
   * overlap (a Socket's retained size includes its Receiver's).
   */
  retainedByShape: HeapRow[];
}

const MAX_JSON_CHARS = 0x1fffffe8;

function load(file: string): Snapshot {
  const size = statSync(file).size;
  if (size >= MAX_JSON_CHARS)
    throw new Error(
      `${file}: ${size} bytes is more than one JS string holds; take the snapshot with fewer connections`,
    );
  const raw = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: {
      meta: {
        node_fields: string[];
        node_types: [string[], ...unknown[]];
        edge_fields: string[];
        edge_types: [string[], ...unknown[]];
      };
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const m = raw.snapshot.meta;
  const idx = (fields: string[], name: string) => {
    const i = fields.indexOf(name);
    if (i < 0) throw new Error(`${file}: no ${name} field`);
    return i;
  };
  return {
    nodes: raw.nodes,
    edges: raw.edges,
    strings: raw.strings,
    nodeFieldCount: m.node_fields.length,
    edgeFieldCount: m.edge_fields.length,
    nodeTypes: m.node_types[0],
    edgeTypes: m.edge_types[0],
    f: {
      type: idx(m.node_fields, 'type'),
      name: idx(m.node_fields, 'name'),
      size: idx(m.node_fields, 'self_size'),
      edgeCount: idx(m.node_fields, 'edge_count'),
    },
    e: {
      type: idx(m.edge_fields, 'type'),
      name: idx(m.edge_fields, 'name_or_index'),
      to: idx(m.edge_fields, 'to_node'),
    },
  };
}

const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string']);
/** Holders looked through to the object that owns them (properties and elements stores, contexts, V8 internals). */
const CONTAINER_TYPES = new Set(['array', 'hidden']);
/** Objects that only hold others: a retainer path goes on to what holds them. */
const LOOK_THROUGH_OBJECTS = new Set(['Object', 'Array', 'Map', 'Set', 'WeakMap', 'WeakSet']);
/** A retainer edge's preference: a named property says most about who owns a value. */
const EDGE_PRIORITY: Record<string, number> = {
  property: 4,
  context: 3,
  element: 2,
  internal: 1,
  hidden: 1,
};

/**
 * Retained size of every node (what would be freed with it): the dominator tree of the graph from
 * the snapshot's root (node 0) over its strong edges (weak and shortcut edges left out, as DevTools
 * does), by the iterative algorithm of Cooper, Harvey and Kennedy ("A Simple, Fast Dominance
 * Algorithm"), then self sizes summed up the tree. Unreachable nodes get their self size.
 */
function retainedSizes(s: Snapshot, firstEdge: Int32Array): Float64Array {
  const { nodes, edges, nodeFieldCount: nf, edgeFieldCount: ef, edgeTypes, f, e } = s;
  const nodeCount = nodes.length / nf;
  const skip = new Uint8Array(edgeTypes.length);
  for (const t of ['weak', 'shortcut'])
    if (edgeTypes.indexOf(t) >= 0) skip[edgeTypes.indexOf(t)] = 1;
  const edgeEnd = (n: number) => firstEdge[n]! + nodes[n * nf + f.edgeCount]! * ef;

  // Postorder by an iterative depth-first search from the root.
  const post = new Int32Array(nodeCount).fill(-1); // node -> postorder index
  const order = new Int32Array(nodeCount); // postorder index -> node
  const visited = new Uint8Array(nodeCount);
  const stackNode = new Int32Array(nodeCount);
  const stackEdge = new Int32Array(nodeCount);
  let sp: number;
  let count = 0;
  stackNode[0] = 0;
  stackEdge[0] = firstEdge[0]!;
  visited[0] = 1;
  sp = 1;
  while (sp > 0) {
    const n = stackNode[sp - 1]!;
    let ei = stackEdge[sp - 1]!;
    const end = edgeEnd(n);
    let pushed = false;
    for (; ei < end; ei += ef) {
      if (skip[edges[ei + e.type]!]) continue;
      const to = edges[ei + e.to]! / nf;
      if (visited[to]) continue;
      visited[to] = 1;
      stackEdge[sp - 1] = ei + ef;
      stackNode[sp] = to;
      stackEdge[sp] = firstEdge[to]!;
      sp++;
      pushed = true;
      break;
    }
    if (!pushed) {
      sp--;
      post[n] = count;
      order[count++] = n;
    }
  }

  // Predecessors (strong edges between reachable nodes), as postorder indices, in CSR form.
  const predCount = new Int32Array(count + 1);
  for (let n = 0; n < nodeCount; n++) {
    if (post[n]! < 0) continue;
    for (let ei = firstEdge[n]!, end = edgeEnd(n); ei < end; ei += ef) {
      if (skip[edges[ei + e.type]!]) continue;
      const to = post[edges[ei + e.to]! / nf]!;
      if (to >= 0) predCount[to + 1]!++;
    }
  }
  for (let i = 0; i < count; i++) predCount[i + 1]! += predCount[i]!;
  const preds = new Int32Array(predCount[count]!);
  const fill = predCount.slice(0, count);
  for (let n = 0; n < nodeCount; n++) {
    const from = post[n]!;
    if (from < 0) continue;
    for (let ei = firstEdge[n]!, end = edgeEnd(n); ei < end; ei += ef) {
      if (skip[edges[ei + e.type]!]) continue;
      const to = post[edges[ei + e.to]! / nf]!;
      if (to >= 0) preds[fill[to]!++] = from;
    }
  }

  // Immediate dominators over postorder indices; the root has the highest.
  const root = count - 1;
  const idom = new Int32Array(count).fill(-1);
  idom[root] = root;
  for (let changed = true; changed;) {
    changed = false;
    for (let b = root - 1; b >= 0; b--) {
      let next = -1;
      for (let k = predCount[b]!; k < predCount[b + 1]!; k++) {
        const p = preds[k]!;
        if (idom[p] === -1) continue;
        if (next === -1) {
          next = p;
          continue;
        }
        let f1 = p;
        let f2 = next;
        while (f1 !== f2) {
          while (f1 < f2) f1 = idom[f1]!;
          while (f2 < f1) f2 = idom[f2]!;
        }
        next = f1;
      }
      if (next !== -1 && idom[b] !== next) {
        idom[b] = next;
        changed = true;
      }
    }
  }

  const retained = new Float64Array(nodeCount);
  for (let n = 0; n < nodeCount; n++) retained[n] = nodes[n * nf + f.size]!;
  // Children come before their dominator in postorder: one pass adds each subtree into its parent.
  for (let i = 0; i < root; i++) {
    const d = idom[i]!;
    if (d >= 0 && d !== i) retained[order[d]!]! += retained[order[i]!]!;
  }
  return retained;
}

function add(map: Map<string, Agg>, key: string, bytes: number, example?: string): void {
  const a = map.get(key);
  if (a) {
    a.bytes += bytes;
    a.count += 1;
  } else map.set(key, { bytes, count: 1, ...(example !== undefined ? { example } : {}) });
}

interface Aggregates {
  total: number;
  byClass: Map<string, Agg>;
  byType: Map<string, Agg>;
  objectShapes: Map<string, Agg>;
  stringsByRetainer: Map<string, Agg>;
  plainObjectsByRetainer: Map<string, Agg>;
  closuresByRetainer: Map<string, Agg>;
  internalArraysByRetainer: Map<string, Agg>;
  retainedByShape: Map<string, Agg>;
}

function aggregate(s: Snapshot): Aggregates {
  const {
    nodes,
    edges,
    strings,
    nodeFieldCount: nf,
    edgeFieldCount: ef,
    nodeTypes,
    edgeTypes,
    f,
    e,
  } = s;
  const nodeCount = nodes.length / nf;
  const typeOf = (n: number) => nodeTypes[nodes[n * nf + f.type]!] ?? '?';
  const nameOf = (n: number) => strings[nodes[n * nf + f.name]!] ?? '';

  const firstEdge = new Int32Array(nodeCount);
  for (let n = 0, ei = 0; n < nodeCount; n++) {
    firstEdge[n] = ei;
    ei += nodes[n * nf + f.edgeCount]! * ef;
  }
  const edgeTypeIds = edgeTypes.map((t) => EDGE_PRIORITY[t] ?? 0);
  const propertyType = edgeTypes.indexOf('property');

  // Distance from the root over strong edges (breadth first), as DevTools orders retainers.
  const dist = new Int32Array(nodeCount).fill(-1);
  const queue = new Int32Array(nodeCount);
  dist[0] = 0;
  for (let head = 0, tail = 1; head < tail; head++) {
    const n = queue[head]!;
    const end = firstEdge[n]! + nodes[n * nf + f.edgeCount]! * ef;
    for (let ei = firstEdge[n]!; ei < end; ei += ef) {
      if (edgeTypeIds[edges[ei + e.type]!] === 0) continue;
      const to = edges[ei + e.to]! / nf;
      if (dist[to] !== -1) continue;
      dist[to] = dist[n]! + 1;
      queue[tail++] = to;
    }
  }

  // Each node's retainer: a parent one step nearer the root (so retainer chains never loop),
  // by preference the one holding it in a named property.
  const retainer = new Int32Array(nodeCount).fill(-1);
  const retainerEdge = new Int32Array(nodeCount).fill(-1);
  const retainerPriority = new Int8Array(nodeCount);
  for (let n = 0; n < nodeCount; n++) {
    if (dist[n] === -1) continue;
    const end = firstEdge[n]! + nodes[n * nf + f.edgeCount]! * ef;
    for (let ei = firstEdge[n]!; ei < end; ei += ef) {
      const prio = edgeTypeIds[edges[ei + e.type]!] ?? 0;
      if (prio === 0) continue;
      const to = edges[ei + e.to]! / nf;
      if (dist[to] !== dist[n]! + 1 || prio <= retainerPriority[to]!) continue;
      retainerPriority[to] = prio;
      retainer[to] = n;
      retainerEdge[to] = ei;
    }
  }

  const edgeLabel = (ei: number): string => {
    const t = edgeTypes[edges[ei + e.type]!];
    // WeakMap entries are named after the ids of their key and value: drop the ids, or every entry is a group of its own.
    // Numbered internal edges (GC roots' lists) are positions too.
    const name =
      t === 'element' || t === 'hidden'
        ? '[]'
        : (strings[edges[ei + e.name]!] ?? '?').replace(/ @\d+/g, '');
    return /^\d+$/.test(name) ? '[]' : name;
  };
  const label = (n: number): string => {
    const t = typeOf(n);
    const name = nameOf(n);
    if (t === 'object' || t === 'native') return name;
    if (t === 'closure') return `${name || 'anonymous'}()`;
    if (name === 'system / Context') return '(context)';
    if (t === 'synthetic') return name;
    return t === 'array' || t === 'hidden' ? name : `(${t})`;
  };
  /**
   * `Owner.prop` for a node: its retainer, looking through up to 4 holders that do not name an
   * owner (internal arrays, closure contexts, plain Objects, Arrays, Maps and Sets, bound functions), e.g.
   * `Socket.handshake.auth.token`.
   */
  const retainedAt = (n: number): string => {
    let parent = retainer[n]!;
    if (parent < 0) return '(no retainer)';
    let path = edgeLabel(retainerEdge[n]!);
    // Also through bound functions (`once` wrappers, .bind()): where the bound function is stored says more.
    const lookThrough = (p: number) =>
      CONTAINER_TYPES.has(typeOf(p)) ||
      (typeOf(p) === 'object' && LOOK_THROUGH_OBJECTS.has(nameOf(p))) ||
      (typeOf(p) === 'closure' && nameOf(p) === 'native_bind');
    for (let depth = 0; depth < 6 && lookThrough(parent); depth++) {
      const up = retainer[parent]!;
      if (up < 0) break;
      path = `${edgeLabel(retainerEdge[parent]!)}${path.startsWith('[') ? '' : '.'}${path}`;
      parent = up;
    }
    return `${label(parent)}${path.startsWith('[') ? '' : '.'}${path}`;
  };
  const shapeOf = (n: number): string => {
    const names: string[] = [];
    const count = nodes[n * nf + f.edgeCount]!;
    for (let k = 0, ei = firstEdge[n]!; k < count && names.length < 9; k++, ei += ef) {
      if (edges[ei + e.type] === propertyType) {
        const p = strings[edges[ei + e.name]!] ?? '';
        if (p !== '__proto__' && p !== 'constructor') names.push(p);
      }
    }
    return `${nameOf(n)}{${names.slice(0, 8).join(',')}${names.length > 8 ? ',…' : ''}}`;
  };

  const out: Aggregates = {
    total: 0,
    byClass: new Map(),
    byType: new Map(),
    objectShapes: new Map(),
    stringsByRetainer: new Map(),
    plainObjectsByRetainer: new Map(),
    closuresByRetainer: new Map(),
    internalArraysByRetainer: new Map(),
    retainedByShape: new Map(),
  };
  const retained = retainedSizes(s, firstEdge);
  for (let n = 0; n < nodeCount; n++) {
    const t = typeOf(n);
    if (t === 'synthetic') continue;
    const size = nodes[n * nf + f.size]!;
    const name = nameOf(n);
    out.total += size;
    add(out.byType, t, size);
    let cls: string;
    if (t === 'object' || t === 'native') cls = name || `(${t})`;
    else if (t === 'closure') cls = `(closure) ${name || 'anonymous'}`;
    else if (t === 'array') cls = `(array) ${name}`;
    else if (t === 'hidden') cls = name.startsWith('system /') ? name : `(hidden) ${name}`;
    else if (STRING_TYPES.has(t)) cls = '(string)';
    else if (t === 'code') cls = '(compiled code)';
    else cls = `(${t})`;
    add(out.byClass, cls, size);
    if (t === 'object') {
      const shape = shapeOf(n);
      add(out.objectShapes, shape, size);
      add(out.retainedByShape, shape, retained[n]!);
    }
    if (STRING_TYPES.has(t))
      add(out.stringsByRetainer, retainedAt(n), size, JSON.stringify(name.slice(0, 60)));
    else if (t === 'object' && (name === 'Object' || name === 'Array'))
      add(out.plainObjectsByRetainer, `${shapeOf(n)} at ${retainedAt(n)}`, size);
    else if (t === 'closure')
      add(out.closuresByRetainer, `${name || 'anonymous'}() at ${retainedAt(n)}`, size);
    else if (t === 'array')
      add(out.internalArraysByRetainer, `${name || '(array)'} at ${retainedAt(n)}`, size);
  }
  return out;
}

function diff(a: Map<string, Agg>, b: Map<string, Agg>, n: number, top: number): HeapRow[] {
  const rows: HeapRow[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    const bytes = ((y?.bytes ?? 0) - (x?.bytes ?? 0)) / n;
    const count = ((y?.count ?? 0) - (x?.count ?? 0)) / n;
    rows.push({
      name: key,
      bytes: Math.round(bytes * 10) / 10,
      count: Math.round(count * 100) / 100,
      ...(y?.example ? { example: y.example } : {}),
    });
  }
  return rows.sort((p, q) => q.bytes - p.bytes).slice(0, top);
}

export function diffSnapshots(
  baseFile: string,
  withFile: string,
  connections: number,
  top = 100,
): HeapDiff {
  // One snapshot in memory at a time: aggregate, then let it go.
  const a = aggregate(load(baseFile));
  const b = aggregate(load(withFile));
  const mib = (file: string) => Math.round((statSync(file).size / 2 ** 20) * 10) / 10;
  return {
    connections,
    files: {
      base: baseFile,
      withConnections: withFile,
      baseMiB: mib(baseFile),
      withConnectionsMiB: mib(withFile),
    },
    heapBytes: {
      base: a.total,
      withConnections: b.total,
      perConnection: Math.round(((b.total - a.total) / connections) * 10) / 10,
    },
    byClass: diff(a.byClass, b.byClass, connections, top),
    byType: diff(a.byType, b.byType, connections, 20),
    objectShapes: diff(a.objectShapes, b.objectShapes, connections, top),
    stringsByRetainer: diff(a.stringsByRetainer, b.stringsByRetainer, connections, top),
    plainObjectsByRetainer: diff(
      a.plainObjectsByRetainer,
      b.plainObjectsByRetainer,
      connections,
      top,
    ),
    closuresByRetainer: diff(a.closuresByRetainer, b.closuresByRetainer, connections, top),
    internalArraysByRetainer: diff(
      a.internalArraysByRetainer,
      b.internalArraysByRetainer,
      connections,
      top,
    ),
    retainedByShape: diff(a.retainedByShape, b.retainedByShape, connections, 100_000)
      .filter((r) => r.count >= 0.5)
      .slice(0, top),
  };
}

if (require.main === module) {
  const [base, withN, n, out] = process.argv.slice(2);
  if (!base || !withN || !n || !out) {
    process.stderr.write(
      'usage: node heapsnap.js <base.heapsnapshot> <with-n.heapsnapshot> <n> <out.json>\n',
    );
    process.exit(2);
  }
  writeFileSync(out, `${JSON.stringify(diffSnapshots(base, withN, Number(n)), null, 2)}\n`);
}
