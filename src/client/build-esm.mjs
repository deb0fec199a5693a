// Builds the ES module flavour of the client library: dist/client/esm/client/ (run by
// `npm run build:client`; plain JavaScript so tsc and jest leave it alone).
//
// tsc keeps import specifiers as written, and the sources say './rooms' (jest and the CommonJS
// build need that). ES modules in Node and strict bundlers need './rooms.js', so this adds the
// extension to every relative specifier of the client's .js and .d.ts files and marks the folder
// {"type":"module"}. The catalog and namespace modules are in the output only for their
// declarations (the client's types come from them): their JavaScript is removed, so the ESM tree
// holds no server code but the three files both sides run: src/wire/protocol.ts (the protocol
// constants) and the room table with the namespace list (src/catalog/room-kinds.ts, namespaces.ts).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = path.join(root, 'dist', 'client', 'esm');
const client = path.join(out, 'client');
/** Server files the library runs: plain tables and constants that import nothing at run time. */
const shared = [
  path.join(out, 'wire', 'protocol'),
  path.join(out, 'catalog', 'room-kinds'),
  path.join(out, 'catalog', 'namespaces'),
];
const kept = (file) =>
  file.startsWith(client + path.sep) || shared.some((base) => file.startsWith(`${base}.`));

rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.client.json')], {
  stdio: 'inherit',
});

const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]*?)\2/g;
for (const file of files(out)) {
  if (!kept(file)) {
    if (/\.js(\.map)?$/.test(file)) rmSync(file);
  } else if (/\.(d\.ts|js)$/.test(file)) {
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text.replace(SPECIFIER, (all, head, quote, spec) =>
        /\.(m?js|json)$/.test(spec) ? all : `${head}${quote}${spec}.js${quote}`,
      ),
    );
  }
}
writeFileSync(path.join(client, 'package.json'), '{ "type": "module" }\n');
writeFileSync(path.join(out, 'wire', 'package.json'), '{ "type": "module" }\n');
