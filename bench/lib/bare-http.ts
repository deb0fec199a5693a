/**
 * The floor of the intake scenario: a bare `node:http` server (`node bare-http.js`, PORT and HOST
 * from the environment) whose one handler does what any JSON intake must: read the body, parse it,
 * answer 202 with a JSON id. No framework, no auth, no validation, no Redis: what a request costs
 * in Node itself.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

const http = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let status = 202;
    let body: string;
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      body = JSON.stringify({ id: randomUUID() });
    } catch {
      status = 400;
      body = '{"error":{"code":"invalid_json"}}';
    }
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});
http.keepAliveTimeout = 65_000;

http.listen(port, host, () => {
  const addr = http.address();
  process.stdout.write(`bare-http ready ${typeof addr === 'object' && addr ? addr.port : port}\n`);
});
