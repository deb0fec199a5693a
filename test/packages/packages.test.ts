import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EventMeta } from '../../src/catalog';
import { NAMESPACES } from '../../src/catalog/namespaces';
import { clientContractSource } from '../../scripts/packages/client-contract';
import {
  bareImports,
  consumerProject,
  packPackages,
  tsc,
  type Tarballs,
} from '../helpers/packages';
import { ROOT, Stack, testConfig } from '../helpers/stack';
import { call, nextEvent } from '../helpers/wait';

const run = promisify(execFile);
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);
const manifest = (name: string) =>
  JSON.parse(readFileSync(path.join(ROOT, 'packages', name, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };

/** Bytes of a folder, files only (what `du --apparent-size` counts). */
function bytesOf(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => {
    const full = path.join(dir, name);
    const st = statSync(full);
    return sum + (st.isDirectory() ? bytesOf(full) : st.size);
  }, 0);
}

/** Top-level packages of a node_modules folder (`@scope/name` for scoped ones). */
function installed(dir: string): string[] {
  const nm = path.join(dir, 'node_modules');
  return readdirSync(nm)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) =>
      n.startsWith('@') ? readdirSync(path.join(nm, n)).map((m) => `${n}/${m}`) : [n],
    )
    .sort();
}

/**
 * The workspace packages as users get them: `npm run pack` writes the tarballs, and projects
 * outside the repo install only those tarballs (and what the registry gives for their
 * dependencies), then type-check, require, import and publish with them.
 */
describe('@switchboard/client and @switchboard/publisher, installed from their tarballs', () => {
  let tarballs: Tarballs;
  let clientOnly: string;
  let both: string;
  const stack = new Stack(testConfig());

  beforeAll(async () => {
    tarballs = await packPackages();
    clientOnly = await consumerProject('client-only', [tarballs.client]);
    both = await consumerProject('both', [tarballs.client, tarballs.publisher, '@types/node@^20']);
  }, 420_000);
  afterAll(async () => {
    await stack.close();
    for (const dir of [clientOnly, both]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pass publint and @arethetypeswrong/cli (ESM and CommonJS, each with its declarations)', async () => {
    for (const name of ['client', 'publisher'] as const) {
      const lint = await run(bin('publint'), ['--strict', path.join(ROOT, 'packages', name)], {
        timeout: 120_000,
      });
      expect(lint.stdout).toMatch(/All good!/);
      // Exits non-zero on any problem; node10 resolution is covered by main/types too.
      const types = await run(bin('attw'), [tarballs[name], '--format', 'json'], {
        timeout: 120_000,
      });
      const report = JSON.parse(types.stdout) as { analysis: { problems: unknown[] } };
      expect(report.analysis.problems).toEqual([]);
    }
  }, 240_000);

  it("the client's install holds socket.io-client and its own dependencies, no server package", () => {
    const packages = installed(clientOnly);
    expect(packages).toContain('@switchboard/client');
    expect(packages).toContain('socket.io-client');
    for (const server of ['zod', 'bullmq', 'ioredis', 'pino', 'express', 'socket.io', 'jose'])
      expect(packages).not.toContain(server);
    // socket.io-client's own tree, nothing else (debug and ms come with it).
    const allowed = new Set([
      '@switchboard/client',
      '@socket.io/component-emitter',
      'debug',
      'engine.io-client',
      'engine.io-parser',
      'ms',
      'socket.io-client',
      'socket.io-parser',
      'ws',
      'xmlhttprequest-ssl',
    ]);
    expect(packages.filter((p) => !allowed.has(p))).toEqual([]);
    const dir = path.join(clientOnly, 'node_modules', '@switchboard', 'client');
    writeFileSync(
      path.join(ROOT, 'dist', 'packages', 'client-install.json'),
      JSON.stringify(
        {
          packedBytes: statSync(tarballs.client).size,
          installedBytes: bytesOf(dir),
          nodeModules: packages,
          nodeModulesBytes: bytesOf(path.join(clientOnly, 'node_modules')),
        },
        null,
        2,
      ),
    );
  });

  it('bundled declarations import nothing but each package’s own runtime dependencies', () => {
    for (const name of ['client', 'publisher'] as const) {
      const dist = path.join(both, 'node_modules', '@switchboard', name, 'dist');
      const deps = Object.keys(manifest(name).dependencies);
      for (const file of ['index.d.ts', 'index.d.cts', 'index.js', 'index.cjs']) {
        const imports = bareImports(path.join(dist, file)).filter(
          (s) => !s.startsWith('node:') && !builtinModules.includes(s),
        );
        const packageOf = (s: string) =>
          s
            .split('/')
            .slice(0, s.startsWith('@') ? 2 : 1)
            .join('/');
        expect({
          file: `${name}/${file}`,
          stray: imports.filter((s) => !deps.includes(packageOf(s))),
        }).toEqual({
          file: `${name}/${file}`,
          stray: [],
        });
      }
    }
    const client = path.join(both, 'node_modules', '@switchboard', 'client', 'dist');
    expect(bareImports(path.join(client, 'index.d.ts'))).toEqual(['socket.io-client']);
    expect(bareImports(path.join(client, 'index.js'))).toEqual(['socket.io-client']);
  });

  /** A strict consumer project with one source file; tsc's result. */
  const typecheck = async (name: string, source: string) => {
    const dir = path.join(both, name);
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'src', 'main.ts'), source);
    // ioredis's own declarations import redis-errors, which ships no types: a consumer checking
    // its libraries (skipLibCheck off, as here) declares it; nothing of ours needs it.
    writeFileSync(path.join(dir, 'src', 'redis-errors.d.ts'), "declare module 'redis-errors';\n");
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          // The packages' own declarations are checked too, with the consumer's settings.
          skipLibCheck: false,
          types: ['node'],
          noEmit: true,
        },
        include: ['src'],
      }),
    );
    return tsc(dir);
  };

  it('a strict consumer type-checks against the packages; a misspelled event or a wrong payload does not compile', async () => {
    const good = await typecheck(
      'good',
      `import { createClient, type OrdersSocket } from '@switchboard/client';
import { createPublisher, GatewayError } from '@switchboard/publisher';

const sb = createClient({ url: 'http://127.0.0.1:3000', token: async () => 'jwt' });
sb.on('/orders', 'order_status_changed', (data, meta) => {
  const status: 'created' | 'paid' | 'preparing' | 'shipped' | 'delivered' | 'cancelled' = data.status;
  const offset: string | undefined = meta.offset;
  console.log(status, offset, meta.id);
});
const joined = await sb.join('/orders', 'order:42');
console.log(joined.room satisfies string);
export type Sockets = OrdersSocket;

const pub = await createPublisher({ redisUrl: 'redis://127.0.0.1:6379' });
const { id } = await pub.emitToOrder('order_status_changed', '42', { orderId: '42', status: 'paid' });
await pub.emit('post_liked', { postId: '1', userId: '7', likeCount: 3 });
await pub.publish({ event: 'new_message', data: {}, target: { chatId: '1' } }, { idempotencyKey: 'k1' });
try {
  await pub.emitToUser('notification', '7', { title: 'Hi', body: 'Welcome', kind: 'info' });
} catch (err) {
  if (err instanceof GatewayError) console.log(err.code satisfies string, err.status);
}
await pub.close();
console.log(id);
`,
    );
    expect(good).toEqual({ ok: true, output: '' });

    const bad = await typecheck(
      'bad',
      `import { createClient } from '@switchboard/client';
import { createPublisher } from '@switchboard/publisher';
const sb = createClient({ url: 'http://127.0.0.1:3000' });
sb.on('/orders', 'order_status_chnaged', () => undefined);
const pub = await createPublisher();
await pub.emit('order_status_chnaged', { orderId: '1', status: 'paid' }, { orderId: '1' });
await pub.emitToOrder('order_status_changed', '1', { orderId: '1', status: 'teleported' });
await sb.join('/orders', 'post:1');
`,
    );
    expect(bad.ok).toBe(false);
    // One error on each wrong line (4: client event, 6: publisher event, 7: payload, 8: room).
    const lines = [...bad.output.matchAll(/src\/main\.ts\((\d+),\d+\): error TS\d+/g)].map((m) =>
      Number(m[1]),
    );
    expect([...new Set(lines)].sort()).toEqual([4, 6, 7, 8]);
    expect(bad.output).toMatch(/order_status_chnaged/);
    expect(bad.output).toMatch(/teleported/);
  }, 240_000);

  it("the package's resolved contract is the same types as the repo's, namespace by namespace", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-contract-'));
    try {
      // The generated file, its shared imports pointed back at the repo's zod-free modules.
      const generated = clientContractSource(ROOT).replaceAll("from '../", `from '${ROOT}/src/`);
      writeFileSync(path.join(dir, 'generated.ts'), generated);
      const same = NAMESPACES.flatMap((ns) =>
        ['ServerEventsOf', 'ClientActionsOf'].map(
          (t) => `Same<Gen.${t}<'${ns}'>, Repo.${t}<'${ns}'>>`,
        ),
      );
      writeFileSync(
        path.join(dir, 'check.ts'),
        `import type * as Gen from './generated';
import type * as Repo from '${ROOT}/src/client/contract';
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Delivered = { [E in Repo.EventName]: Same<Gen.DeliveredData<E>, Repo.DeliveredData<E>> };
export const checks: [${same.join(', ')}, Same<Gen.EventName, Repo.EventName>] = [${same.map(() => 'true').join(', ')}, true];
export const delivered: Delivered = {} as { [E in Repo.EventName]: true };
`,
      );
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: path.join(ROOT, 'tsconfig.json'),
          compilerOptions: {
            noEmit: true,
            rootDir: '/',
            typeRoots: [path.join(ROOT, 'node_modules', '@types')],
            types: ['node'],
          },
          include: [path.join(dir, '*.ts')],
          exclude: [],
        }),
      );
      expect(await tsc(dir)).toEqual({ ok: true, output: '' });
      // And it can fail: a contract missing an event is not the same type.
      writeFileSync(
        path.join(dir, 'generated.ts'),
        generated.replace(/^ {4}order_status_changed: .*$/m, ''),
      );
      const broken = await tsc(dir);
      expect(broken.ok).toBe(false);
      expect(broken.output).toMatch(/check\.ts\(\d+,\d+\): error TS2322/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('require() and import load the client; the publisher publishes what a real gateway delivers', async () => {
    const loaders = {
      cjs: `const c = require('@switchboard/client'); const sb = c.createClient({ url: 'http://127.0.0.1:1' }); console.log(JSON.stringify({ create: typeof c.createClient, join: c.roomActions('/orders', 'order:42').join })); sb.close();`,
      esm: `import * as c from '@switchboard/client'; const sb = c.createClient({ url: 'http://127.0.0.1:1' }); console.log(JSON.stringify({ create: typeof c.createClient, join: c.roomActions('/orders', 'order:42').join })); sb.close();`,
    };
    for (const [kind, code] of Object.entries(loaders)) {
      const file = path.join(both, `load.${kind === 'cjs' ? 'cjs' : 'mjs'}`);
      writeFileSync(file, code);
      const { stdout } = await run(process.execPath, [file], { cwd: both, timeout: 30_000 });
      expect(JSON.parse(stdout)).toEqual({ create: 'function', join: 'join_order' });
    }

    const gw = await stack.gateway();
    await stack.worker();
    const socket = await stack.client(gw, '/orders', await stack.auth('ops', ['admin']));
    expect(await call(socket, 'join_order', { orderId: 'pkg1' })).toMatchObject({ ok: true });
    const got = nextEvent<{ orderId: string; status: string }, EventMeta>(
      socket,
      'order_status_changed',
    );
    // The publisher in a Node backend of its own (ESM and CommonJS): the same Redis, prefix, queue.
    const backend = (kind: 'cjs' | 'mjs', status: string) =>
      `${kind === 'cjs' ? "const { createPublisher, GatewayError } = require('@switchboard/publisher');" : "import { createPublisher, GatewayError } from '@switchboard/publisher';"}
(async () => {
  const pub = await createPublisher({ redisUrl: ${JSON.stringify(stack.config.REDIS_URL)}, keyPrefix: ${JSON.stringify(stack.config.KEY_PREFIX)}, queueName: ${JSON.stringify(stack.config.QUEUE_NAME)} });
  const accepted = await pub.emitToOrder('order_status_changed', 'pkg1', { orderId: 'pkg1', status: '${status}' }, { idempotencyKey: 'pkg1-${status}' });
  const again = await pub.emitToOrder('order_status_changed', 'pkg1', { orderId: 'pkg1', status: '${status}' }, { idempotencyKey: 'pkg1-${status}' });
  let refused;
  try { await pub.emit('order_status_changed', { orderId: 'pkg1', status: 'teleported' }); }
  catch (err) { refused = { typed: err instanceof GatewayError, code: err.code, path: err.details.issues?.[0]?.path }; }
  await pub.close();
  console.log(JSON.stringify({ accepted, again, refused }));
})();`;
    writeFileSync(path.join(both, 'publish.mjs'), backend('mjs', 'paid'));
    const first = JSON.parse(
      (await run(process.execPath, ['publish.mjs'], { cwd: both })).stdout,
    ) as {
      accepted: { id: string };
      again: { id: string; replayed?: true };
      refused: unknown;
    };
    expect(first.again).toEqual({ id: first.accepted.id, replayed: true });
    expect(first.refused).toEqual({ typed: true, code: 'invalid_payload', path: ['status'] });
    const [data, meta] = await got;
    expect(data).toEqual({ orderId: 'pkg1', status: 'paid' });
    expect(meta.id).toBe(first.accepted.id);

    const next = nextEvent<{ orderId: string; status: string }, EventMeta>(
      socket,
      'order_status_changed',
    );
    writeFileSync(path.join(both, 'publish.cjs'), backend('cjs', 'shipped'));
    const second = JSON.parse(
      (await run(process.execPath, ['publish.cjs'], { cwd: both })).stdout,
    ) as {
      accepted: { id: string };
    };
    // The replayed `paid` above published nothing: the next event is `shipped`.
    const [data2, meta2] = await next;
    expect(data2).toEqual({ orderId: 'pkg1', status: 'shipped' });
    expect(meta2.id).toBe(second.accepted.id);
  }, 60_000);
});
