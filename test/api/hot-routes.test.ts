import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withHotPublishRoutes } from '../../src/api/hot-routes';
import { scrape, valueOf } from '../metrics/scrape';
import { Stack, testConfig } from '../helpers/stack';

/**
 * The publish routes answered without express (src/api/hot-routes.ts) answer exactly as express
 * does. `/api/events?via=express` (a query) is the same route to express but not a hot path, so each
 * request is sent both ways and the answers compared: status, the headers callers read, and the
 * body with its ids masked.
 */
interface Answer {
  status: number;
  headers: Record<string, string | null>;
  body: unknown;
}

const ORDER_EVENT = {
  event: 'order_status_changed',
  target: { orderId: 'hot1' },
  data: { orderId: 'hot1', status: 'paid' },
};

const maskIds = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value).replace(/"id":"[0-9a-f-]{36}"/g, '"id":"<id>"')) as unknown;

describe('hot publish routes', () => {
  const stack = new Stack(
    testConfig({ MAX_PAYLOAD_BYTES: '2048', PUBLISH_BATCH_MAX_BYTES: '4096' }),
  );
  let gw: Awaited<ReturnType<Stack['gateway']>>;

  const send = async (
    path: string,
    body: string,
    extraHeaders: Record<string, string> = {},
  ): Promise<Answer> => {
    const res = await fetch(stack.url(gw, path), {
      method: 'POST',
      headers: { ...stack.apiHeaders(), ...extraHeaders },
      body,
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: Object.fromEntries(
        ['content-type', 'idempotent-replayed', 'retry-after'].map((h) => [h, res.headers.get(h)]),
      ),
      body: maskIds(text === '' ? null : (JSON.parse(text) as unknown)),
    };
  };
  /** The same request on the hot path and through express. */
  const both = async (path: string, body: string, headers: Record<string, string> = {}) => ({
    hot: await send(path, body, headers),
    express: await send(`${path}?via=express`, body, headers),
  });

  beforeAll(async () => {
    gw = await stack.gateway();
  });
  afterAll(() => stack.close());

  it.each([
    ['an event', '/api/events', JSON.stringify(ORDER_EVENT), 202],
    ['invalid JSON', '/api/events', '{"event":', 400],
    ['JSON that is not an object', '/api/events', '"order_status_changed"', 400],
    ['an empty body', '/api/events', '', 400],
    ['an unknown event', '/api/events', JSON.stringify({ ...ORDER_EVENT, event: 'nope' }), 404],
    [
      'a payload the schema refuses',
      '/api/events',
      JSON.stringify({ ...ORDER_EVENT, data: { orderId: 'hot1', status: 'lost' } }),
      400,
    ],
    [
      'a body over MAX_PAYLOAD_BYTES',
      '/api/events',
      JSON.stringify({ ...ORDER_EVENT, data: { ...ORDER_EVENT.data, note: 'x'.repeat(3000) } }),
      413,
    ],
    ['a batch', '/api/events/batch', JSON.stringify({ events: [ORDER_EVENT, ORDER_EVENT] }), 200],
    [
      'a batch with one bad item',
      '/api/events/batch',
      JSON.stringify({ events: [ORDER_EVENT, { ...ORDER_EVENT, event: 'nope' }] }),
      200,
    ],
    ['an empty batch', '/api/events/batch', JSON.stringify({ events: [] }), 400],
    [
      'a batch over PUBLISH_BATCH_MAX_BYTES',
      '/api/events/batch',
      JSON.stringify({ events: Array.from({ length: 40 }, () => ORDER_EVENT) }),
      413,
    ],
  ])('answers %s as express does', async (_what, path, body, status) => {
    const { hot, express } = await both(path, body);
    expect(hot.status).toBe(status);
    expect(hot).toEqual(express);
  });

  it('answers a batch with an Idempotency-Key header as express does', async () => {
    const body = JSON.stringify({ events: [ORDER_EVENT] });
    const { hot, express } = await both('/api/events/batch', body, { 'idempotency-key': 'k' });
    expect(hot.status).toBe(400);
    expect(hot).toEqual(express);
  });

  it('replays an idempotency key (Idempotent-Replayed, the first id) as express does', async () => {
    const body = JSON.stringify(ORDER_EVENT);
    const first = await send('/api/events', body, { 'idempotency-key': 'hot-key-1' });
    const again = await send('/api/events', body, { 'idempotency-key': 'hot-key-1' });
    const viaExpress = await send('/api/events?via=express', body, {
      'idempotency-key': 'hot-key-1',
    });
    expect(first.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again).toEqual(viaExpress);
  });

  it('takes only the plain publish requests; every other one goes to the app behind it', async () => {
    // The hot routes in front of a stand-in app that answers 599, on the gateway's own runtime.
    const server = createServer(
      withHotPublishRoutes(
        (_req, res) => {
          res.writeHead(599).end();
        },
        gw.runtime,
        {},
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const status = async (path: string, headers: Record<string, string> = {}) =>
      (
        await fetch(`http://127.0.0.1:${port}${path}`, {
          method: 'POST',
          headers: { ...stack.apiHeaders(), ...headers },
          body: JSON.stringify(ORDER_EVENT),
        })
      ).status;
    try {
      expect(await status('/api/events')).toBe(202);
      expect(await status('/api/events/batch')).toBe(400);
      expect(await status('/api/events?via=express')).toBe(599);
      expect(await status('/api/events', { origin: 'http://a.example' })).toBe(599);
      expect(await status('/api/events', { authorization: 'Bearer wrong' })).toBe(599);
      expect(await status('/api/events', { 'content-type': 'text/plain' })).toBe(599);
      expect(await status('/api/events', { 'content-encoding': 'gzip' })).toBe(599);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('leaves a wrong token, an Origin header and another content type to express', async () => {
    const body = JSON.stringify(ORDER_EVENT);
    const wrong = await send('/api/events', body, { authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(401);
    const withOrigin = await send('/api/events', body, { origin: 'http://elsewhere.example' });
    expect(withOrigin).toEqual(
      await send('/api/events?via=express', body, { origin: 'http://elsewhere.example' }),
    );
    const text = await send('/api/events', body, { 'content-type': 'text/plain' });
    expect(text).toEqual(
      await send('/api/events?via=express', body, { 'content-type': 'text/plain' }),
    );
  });

  it('counts its requests under the route, as express does', async () => {
    const route = { route: '/api/events', status: '202' };
    const before =
      valueOf(
        (await scrape(stack.url(gw, '/metrics'))).samples,
        'switchboard_http_requests_total',
        route,
      ) ?? 0;
    await send('/api/events', JSON.stringify(ORDER_EVENT));
    await send('/api/events?via=express', JSON.stringify(ORDER_EVENT));
    const after = valueOf(
      (await scrape(stack.url(gw, '/metrics'))).samples,
      'switchboard_http_requests_total',
      route,
    );
    expect(after).toBe(before + 2);
  });
});
