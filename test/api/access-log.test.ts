import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { accessLog, publishAccessLog } from '../../src/api/access-log';
import { until } from '../helpers/wait';

/**
 * The access log (src/api/access-log.ts) on a real HTTP server, writing to a pino logger of the
 * test's: one line per answered request with its request id, the caller's X-Request-Id honoured
 * only when sane and returned on every answer, probes answered but not logged, secrets redacted,
 * level by status. The gateway's wiring (express and the hot path) is test/api/access-log-gateway.
 */
type Line = {
  level: number;
  msg: string;
  responseTime: number;
  req: { id: string; method: string; url: string; headers: Record<string, string> };
  res: { statusCode: number; headers: Record<string, unknown> };
};

describe('access log', () => {
  const lines: Line[] = [];
  const raw: string[] = [];
  let waiter: (() => void) | undefined;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString());
      lines.push(JSON.parse(chunk.toString()) as Line);
      waiter?.();
      done();
    },
  });
  const log = accessLog(pino({ level: 'info' }, sink));
  let server: Server;
  let base: string;

  beforeAll(async () => {
    // Answers /status/<code> with that code; sets a cookie on /login.
    server = createServer((req, res) => {
      log(req, res);
      if (req.url === '/login') res.setHeader('Set-Cookie', 'sb_admin=session-secret; HttpOnly');
      const code = Number(/^\/status\/(\d{3})/.exec(req.url ?? '')?.[1] ?? 200);
      res.writeHead(code, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  /** Sends a request and resolves with its answer's X-Request-Id and the log line of that id, if any. */
  const send = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const res = await fetch(`${base}${path}`, { method, headers });
    await res.text();
    return res.headers.get('x-request-id') ?? '';
  };
  /** The line of request `id`: written by the time its answer is read, or on the next tick. */
  const lineOf = async (id: string): Promise<Line> => {
    const find = () => lines.find((l) => l.req.id === id);
    const found = find();
    if (found) return found;
    await new Promise<void>((resolve) => (waiter = () => find() && resolve()));
    return find()!;
  };

  it('keeps a sane X-Request-Id, returns it, and logs the request under it', async () => {
    const id = await send('/api/things?x=1', { 'x-request-id': 'edge-1a.B:c_d-9' });
    expect(id).toBe('edge-1a.B:c_d-9');
    const line = await lineOf(id);
    expect(line).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id, method: 'GET', url: '/api/things?x=1' },
      res: { statusCode: 200 },
    });
    expect(line.responseTime).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with a space', 'two words'],
    ['with a slash', 'a/b'],
    ['with a quote', 'a"b'],
  ])('replaces an X-Request-Id %s with a new UUID', async (_what, given) => {
    const id = await send('/', { 'x-request-id': given });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await lineOf(id)).req.headers['x-request-id']).toBe(given);
  });

  it('gives every request without one an id of its own', async () => {
    const [a, b] = [await send('/'), await send('/')];
    expect(a).not.toBe(b);
    expect((await lineOf(a)).req.id).toBe(a);
    expect((await lineOf(b)).req.id).toBe(b);
  });

  it('answers probes with an id but logs none of them', async () => {
    const probes = [
      await send('/healthz'),
      await send('/readyz'),
      await send('/metrics'),
      await send('/metrics?name[]=x'),
    ];
    for (const id of probes) expect(id).not.toBe('');
    // Answered after the probes, so logged after them if they were logged at all.
    await lineOf(await send('/healthz/not-a-probe'));
    expect(lines.filter((l) => probes.includes(l.req.id))).toEqual([]);
  });

  it('redacts the Authorization and Cookie headers and a Set-Cookie answer', async () => {
    const id = await send(
      '/login',
      { authorization: 'Bearer publish-token-secret', cookie: 'sb_admin=cookie-secret' },
      'POST',
    );
    const line = await lineOf(id);
    expect(line.req.headers.authorization).toBe('[redacted]');
    expect(line.req.headers.cookie).toBe('[redacted]');
    expect(line.res.headers['set-cookie']).toBe('[redacted]');
    const text = raw.find((r) => r.includes(id)) ?? '';
    for (const secret of ['publish-token-secret', 'cookie-secret', 'session-secret'])
      expect(text).not.toContain(secret);
  });

  it.each([
    [200, 30],
    [303, 30],
    [404, 40],
    [429, 40],
    [500, 50],
    [503, 50],
  ])('logs a %i at level %i', async (status, level) => {
    const line = await lineOf(await send(`/status/${status}`));
    expect(line.res.statusCode).toBe(status);
    expect(line.level).toBe(level);
  });
});

describe('access log of the publish routes', () => {
  /** A server whose every request goes through publishAccessLog on a pino at `level`. */
  const serve = async (level: 'info' | 'debug') => {
    const lines: Line[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Line);
        done();
      },
    });
    const logPublish = publishAccessLog(accessLog(pino({ level }, sink)));
    const server = createServer((req, res) => {
      logPublish(req, res);
      const code = Number(/^\/status\/(\d{3})/.exec(req.url ?? '')?.[1] ?? 202);
      res.writeHead(code, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const send = async (path: string) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer publish-secret-token',
          'x-request-id': path.slice(1).replace('/', '-'),
        },
        body: '{}',
      });
      await res.text();
      return res.headers.get('x-request-id');
    };
    return { lines, send, close: () => new Promise((r) => server.close(r)) };
  };

  it('logs refusals at warn and errors at error, redacted, and a success only at debug', async () => {
    const info = await serve('info');
    try {
      expect(await info.send('/status/202')).toBe('status-202');
      expect(await info.send('/status/401')).toBe('status-401');
      expect(await info.send('/status/503')).toBe('status-503');
      // The 401 and 503 lines, written at close; the 202 was answered first and is not there.
      await until(() => info.lines.length === 2, 5000, 'two lines');
      expect(info.lines.map((l) => [l.req.id, l.level])).toEqual([
        ['status-401', 40],
        ['status-503', 50],
      ]);
      expect(info.lines[0]!.req.headers.authorization).toBe('[redacted]');
      expect(info.lines[0]).toMatchObject({ msg: 'request completed', res: { statusCode: 401 } });
    } finally {
      await info.close();
    }
    const debug = await serve('debug');
    try {
      await debug.send('/status/202');
      await until(() => debug.lines.length === 1, 5000, 'the success line');
      expect(debug.lines[0]).toMatchObject({
        level: 20,
        msg: 'request completed',
        req: { id: 'status-202', method: 'POST', url: '/status/202' },
        res: { statusCode: 202 },
      });
      expect(typeof debug.lines[0]!.responseTime).toBe('number');
    } finally {
      await debug.close();
    }
  });
});
