// Serves index.html and dist/ of this folder on PORT (default 8080), loopback only: enough to try
// the page; in production the page is part of the application's own frontend build.
import { createReadStream, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const file = path.join(here, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
  if (!file.startsWith(here + path.sep) || !existsSync(file) || !(path.extname(file) in types)) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': types[path.extname(file)] });
  createReadStream(file).pipe(res);
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () =>
  console.log(`example page on http://127.0.0.1:${server.address().port}/`),
);
