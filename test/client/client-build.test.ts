import { execFile } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/stack';

const run = promisify(execFile);
const node = (args: string[], cwd = ROOT) => run(process.execPath, args, { cwd, timeout: 60_000 });

/**
 * `npm run build:client` builds what package.json exports as `switchboard/client`: CommonJS for
 * require, ES modules for import (browsers, bundlers, Node), each with its declarations. Neither
 * loads anything of the server: a browser bundle gets socket.io-client and the library, no zod,
 * ioredis or catalog schemas.
 */
describe('the built client library (package.json exports ./client)', () => {
  let consumer: string;
  beforeAll(async () => {
    await run('npm', ['run', '--silent', 'build:client'], { cwd: ROOT, timeout: 150_000 });
    // A project outside the repo that depends on switchboard (a symlink, as npm link would make).
    consumer = mkdtempSync(path.join(tmpdir(), 'sb-client-consumer-'));
    mkdirSync(path.join(consumer, 'node_modules'));
    symlinkSync(ROOT, path.join(consumer, 'node_modules', 'switchboard'), 'dir');
  }, 180_000);
  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it('resolves through the exports map: require -> CommonJS build, import -> ESM build', async () => {
    expect(require.resolve('switchboard/client', { paths: [ROOT] })).toBe(
      path.join(ROOT, 'dist/src/client/index.js'),
    );
    const { stdout } = await node(
      [
        '--input-type=module',
        '-e',
        "process.stdout.write(import.meta.resolve('switchboard/client'))",
      ],
      consumer,
    );
    expect(stdout).toBe(`file://${path.join(ROOT, 'dist/client/esm/client/index.js')}`);
  });

  it('require("switchboard/client") loads the library and socket.io-client only', async () => {
    const script = `
      const c = require('switchboard/client');
      const sb = c.createClient({ url: 'http://127.0.0.1:1' });
      sb.close();
      process.stdout.write(JSON.stringify({ exports: Object.keys(c).sort(), loaded: Object.keys(require.cache) }));`;
    const { stdout } = await node(['-e', script], consumer);
    const { exports, loaded } = JSON.parse(stdout) as { exports: string[]; loaded: string[] };
    expect(exports).toEqual(
      expect.arrayContaining([
        'createClient',
        'SwitchboardClient',
        'SwitchboardError',
        'roomActions',
        'NO_OFFSET_REASON',
      ]),
    );
    const ours = loaded.filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`));
    expect(ours.map((f) => path.relative(ROOT, f)).sort()).toEqual([
      'dist/src/catalog/namespaces.js',
      'dist/src/catalog/room-kinds.js',
      ...['errors', 'index', 'namespace', 'room-state', 'rooms'].map(
        (f) => `dist/src/client/${f}.js`,
      ),
      'dist/src/wire/protocol.js',
    ]);
    const packages = new Set(
      loaded
        .map((f) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(f)?.[1])
        .filter(Boolean),
    );
    for (const server of [
      'zod',
      'ioredis',
      'bullmq',
      'socket.io',
      'express',
      'jose',
      'pino',
      'msgpackr',
    ])
      expect(packages.has(server)).toBe(false);
    expect(packages.has('socket.io-client')).toBe(true);
  });

  it('the ESM build imports nothing but its own files and socket.io-client, and works in Node', async () => {
    const esm = path.join(ROOT, 'dist/client/esm');
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) =>
        statSync(path.join(dir, n)).isDirectory() ? files(path.join(dir, n)) : [path.join(dir, n)],
      );
    // Only the library's JavaScript; the rest of the tree is declarations its types refer to.
    expect(
      files(esm)
        .filter((f) => f.endsWith('.js'))
        .map((f) => path.relative(esm, f))
        .sort(),
    ).toEqual([
      'catalog/namespaces.js',
      'catalog/room-kinds.js',
      ...['errors', 'index', 'namespace', 'room-state', 'rooms', 'socket-types', 'types'].map(
        (f) => `client/${f}.js`,
      ),
      'wire/protocol.js',
    ]);
    // Walk the import graph from the entry point.
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(
        /(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g,
      )) {
        if (spec!.startsWith('.')) visit(path.resolve(path.dirname(file), spec!));
        else bare.add(spec!);
      }
    };
    visit(path.join(esm, 'client/index.js'));
    expect([...bare]).toEqual(['socket.io-client']);
    // The library's own files, and the protocol constants it shares with the gateway (no imports).
    expect(
      [...seen]
        .filter((f) => !f.startsWith(path.join(esm, 'client') + path.sep))
        .map((f) => path.relative(esm, f))
        .sort(),
    ).toEqual(['catalog/namespaces.js', 'catalog/room-kinds.js', 'wire/protocol.js']);

    const script = `
      const c = await import('switchboard/client');
      const sb = c.createClient({ url: ['http://127.0.0.1:1', 'http://127.0.0.1:2'] });
      process.stdout.write(JSON.stringify({ url: sb.url, join: c.roomActions('/orders', 'order:42') }));
      sb.close();`;
    const { stdout } = await node(['--input-type=module', '-e', script], consumer);
    expect(JSON.parse(stdout)).toEqual({
      url: 'http://127.0.0.1:1',
      join: {
        join: 'join_order',
        leave: 'leave_order',
        payload: { orderId: '42' },
        recoverable: true,
      },
    });
  });

  it('is typed from the catalog for ESM and CommonJS consumers (moduleResolution nodenext)', async () => {
    const usage = (from: string) => `
      import { createClient, type JoinResult, type OrdersSocket } from ${from};
      const sb = createClient({ url: ['http://a', 'http://b'], token: async () => 't', onRecoveryIncomplete: (room: string, reason: string) => void [room, reason] });
      sb.on('/orders', 'order_status_changed', (data, meta) => {
        const status: 'created' | 'paid' | 'preparing' | 'shipped' | 'delivered' | 'cancelled' = data.status;
        const offset: string | undefined = meta.offset;
        void [status, offset];
      });
      const joined: Promise<JoinResult> = sb.join('/orders', 'order:1');
      const rooms: Promise<string[]> = sb.call('/orders', 'get_rooms');
      // @ts-expect-error post rooms are on /social
      void sb.join('/orders', 'post:1');
      // @ts-expect-error post_liked is not an /orders event
      sb.on('/orders', 'post_liked', () => undefined);
      // @ts-expect-error new_message is a /chat action
      void sb.call('/orders', 'new_message', { chatId: '1', content: 'x' });
      void [joined, rooms, null as unknown as OrdersSocket];
    `;
    writeFileSync(path.join(consumer, 'esm.mts'), usage("'switchboard/client'"));
    writeFileSync(path.join(consumer, 'cjs.cts'), usage("'switchboard/client'"));
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
          typeRoots: [],
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    );
    const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
    // --listFiles: the program holds both flavours' declarations (import -> ESM, require -> CommonJS).
    const result = await node([tsc, '-p', consumer, '--listFiles'], consumer).catch(
      (err: unknown) => err as { stdout: string },
    );
    const listed = result.stdout.split('\n');
    expect(listed.filter((l) => /error TS/.test(l))).toEqual([]);
    expect(listed).toEqual(
      expect.arrayContaining([
        path.join(ROOT, 'dist/client/esm/client/index.d.ts'),
        path.join(ROOT, 'dist/src/client/index.d.ts'),
      ]),
    );
  }, 60_000);
});
