import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { queueNames } from '../../src/wire/delivery-batch';
import type { Gateway } from '../../src/gateway/server';
import { createKeys } from '../../src/redis/keys';
import { TEST_REDIS_URL } from '../helpers/redis';
import { Stack, testConfig } from '../helpers/stack';

const ADMIN_TOKEN = 'admin-token-for-dashboards-0123';
const PAGES = ['/admin/queues/', '/admin/socket.io/'];
const HTML = { accept: 'text/html,application/xhtml+xml' };

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** Connects to a gateway's Admin UI namespace; resolves 'connected' (after the first stats) or the connect_error message. */
function adminSocket(
  stack: Stack,
  gw: Gateway,
  auth: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<string> {
  const socket: Socket = io(stack.url(gw, '/admin'), {
    auth,
    extraHeaders: headers,
    transports: ['polling', 'websocket'],
    reconnection: false,
    forceNew: true,
  });
  stack.sockets.push(socket);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), 5000);
    socket.once('server_stats', (stats: { namespaces: Array<{ name: string }> }) => {
      clearTimeout(timer);
      resolve(`connected: ${stats.namespaces.map((n) => n.name).join(',')}`);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      resolve(`refused: ${err.message}`);
    });
  });
}

describe('dashboards behind the admin page sign-in', () => {
  const stack = new Stack(testConfig({ ADMIN_TOKEN, ADMIN_UI: 'on' }));
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
  });
  afterAll(() => stack.close());

  const get = (p: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
    fetch(stack.url(gw, p), { redirect: 'manual', ...init, headers: { ...HTML, ...headers } });

  it('answers 401 with a Basic challenge without credentials, and with a wrong user or password', async () => {
    for (const page of [
      ...PAGES,
      '/admin/queues',
      '/admin/queues/api/queues',
      '/admin/socket.io/js/x.js',
    ]) {
      for (const headers of [
        {},
        basic('admin', 'wrong-password-0123456789'),
        basic('root', ADMIN_TOKEN),
        { authorization: `Bearer ${ADMIN_TOKEN}` },
      ]) {
        const res = await get(page, headers);
        expect({ page, status: res.status }).toEqual({ page, status: 401 });
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="switchboard"');
      }
    }
    // A browser is pointed at the sign-in form.
    const body = await (await get('/admin/queues/')).text();
    expect(body).toContain('/admin/login?next=%2Fadmin%2Fqueues%2F');
  });

  it('serves both dashboards as HTML with Basic admin:ADMIN_TOKEN, with no link to another site', async () => {
    for (const page of PAGES) {
      const res = await get(page, basic('admin', ADMIN_TOKEN));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      const html = await res.text();
      expect(html).not.toMatch(/(href|src)="(https?:)?\/\//);
    }
    expect(await (await get('/admin/queues/', basic('admin', ADMIN_TOKEN))).text()).toContain(
      '<base href="/admin/queues/"',
    );
    // The Admin UI needs the trailing slash for its relative asset paths.
    const bare = await get('/admin/socket.io', basic('admin', ADMIN_TOKEN));
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/admin/socket.io/');
  });

  it("serves the Admin UI's and Bull Board's assets from their packages", async () => {
    const auth = basic('admin', ADMIN_TOKEN);
    const adminUi = await (await get('/admin/socket.io/', auth)).text();
    const uiAssets = [...adminUi.matchAll(/(?:src|href)="((?:js|css)\/[^"]+)"/g)].map(
      (m) => m[1] as string,
    );
    expect(uiAssets.filter((a) => a.endsWith('.js')).length).toBeGreaterThanOrEqual(2);
    expect(adminUi).toContain('<script src="switchboard-defaults.js"></script>');
    for (const asset of [...new Set(uiAssets)]) {
      const res = await get(`/admin/socket.io/${asset}`, auth);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      expect(res.headers.get('content-type')).toMatch(
        asset.endsWith('.js') ? /javascript/ : /text\/css/,
      );
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(500);
    }
    const defaults = await get('/admin/socket.io/switchboard-defaults.js', auth);
    expect(await defaults.text()).toContain("localStorage.setItem('server_url', location.origin)");
    expect((await get('/admin/socket.io/js/missing.js', auth)).status).toBe(404);

    const board = await (await get('/admin/queues/', auth)).text();
    const boardAssets = [...board.matchAll(/(?:src|href)="(static\/[^"]+\.(?:js|css))"/g)].map(
      (m) => m[1] as string,
    );
    expect(boardAssets.length).toBeGreaterThanOrEqual(2);
    for (const asset of boardAssets)
      expect({ asset, status: (await get(`/admin/queues/${asset}`, auth)).status }).toEqual({
        asset,
        status: 200,
      });
  });

  it("Bull Board's API lists the delivery, throttle and handler queues, read-only", async () => {
    const auth = basic('admin', ADMIN_TOKEN);
    const res = await get('/admin/queues/api/queues', { ...auth, accept: 'application/json' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      queues: Array<{ name: string; readOnlyMode: boolean; type: string }>;
    };
    const names = queueNames(stack.config.QUEUE_NAME);
    expect(body.queues.map((q) => q.name).sort()).toEqual(
      [names.delivery, names.throttle, names.handlers].sort(),
    );
    expect(body.queues.every((q) => q.readOnlyMode && q.type === 'bullmq')).toBe(true);
    // Mutations are refused by Bull Board itself.
    const pause = await fetch(stack.url(gw, `/admin/queues/api/queues/${names.delivery}/pause`), {
      method: 'PUT',
      headers: auth,
    });
    expect(pause.status).toBe(405);
    expect(await gw.runtime.management.jobs.queue('delivery').isPaused()).toBe(false);
  });

  it('signs in with the form: an opaque HttpOnly SameSite=Strict cookie, a hashed Redis key with a TTL, sign-out', async () => {
    const form = await get('/admin/login?next=/admin/socket.io/');
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="password"');

    const wrong = await get(
      '/admin/login',
      {},
      {
        method: 'POST',
        body: new URLSearchParams({ password: 'not-the-admin-token', next: '/admin/queues/' }),
      },
    );
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const ok = await get(
      '/admin/login',
      {},
      {
        method: 'POST',
        body: new URLSearchParams({ password: ADMIN_TOKEN, next: '/admin/socket.io/' }),
      },
    );
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/admin/socket.io/');
    const setCookie = ok.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(
      /^sb_admin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    const cookie = setCookie.split(';')[0] as string;
    const sessionId = cookie.slice('sb_admin='.length);

    // Redis holds a hash of the id, never the id itself, and it expires.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const key = createKeys(stack.config.KEY_PREFIX).adminSession(sessionId);
      expect(key).not.toContain(sessionId);
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(28_000);
      expect(ttl).toBeLessThanOrEqual(28_800);
    } finally {
      redis.disconnect();
    }

    for (const page of PAGES)
      expect({ page, status: (await get(page, { cookie })).status }).toEqual({ page, status: 200 });
    expect((await get('/admin/queues/', { cookie: 'sb_admin=' + 'A'.repeat(43) })).status).toBe(
      401,
    );
    // An open redirect is refused: anything but a path on this site goes to the queues page.
    const offsite = await get(
      '/admin/login',
      {},
      {
        method: 'POST',
        body: new URLSearchParams({ password: ADMIN_TOKEN, next: '//evil.example/' }),
      },
    );
    expect(offsite.headers.get('location')).toBe('/admin/queues/');

    const out = await get('/admin/logout', { cookie }, { method: 'POST' });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await get('/admin/queues/', { cookie })).status).toBe(401);
  });

  it('keeps the JSON /admin API on its bearer token only', async () => {
    const bearer = await fetch(stack.url(gw, '/admin/throttle/count'), {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(bearer.status).toBe(200);
    expect(await bearer.json()).toEqual({ windows: 0, events: 0 });
    expect(
      (
        await fetch(stack.url(gw, '/admin/throttle/count'), {
          headers: basic('admin', ADMIN_TOKEN),
        })
      ).status,
    ).toBe(401);
    const login = await get(
      '/admin/login',
      {},
      { method: 'POST', body: new URLSearchParams({ password: ADMIN_TOKEN }) },
    );
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const withCookie = await fetch(stack.url(gw, '/admin/throttle/count'), { headers: { cookie } });
    expect(withCookie.status).toBe(401);
    expect(((await withCookie.json()) as { error: { code: string } }).error.code).toBe(
      'unauthorized',
    );
  });

  it("admits the Admin UI's socket with admin:ADMIN_TOKEN or the sign-in cookie, and nothing else", async () => {
    expect(await adminSocket(stack, gw, {})).toBe('refused: invalid credentials');
    expect(
      await adminSocket(stack, gw, { username: 'admin', password: 'wrong-password-0123456789' }),
    ).toBe('refused: invalid credentials');
    expect(await adminSocket(stack, gw, { username: 'root', password: ADMIN_TOKEN })).toBe(
      'refused: invalid credentials',
    );
    expect(await adminSocket(stack, gw, { username: 'admin', password: ADMIN_TOKEN })).toBe(
      'connected: /,/social,/chat,/orders,/notification,/admin',
    );
    const login = await get(
      '/admin/login',
      {},
      { method: 'POST', body: new URLSearchParams({ password: ADMIN_TOKEN }) },
    );
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(await adminSocket(stack, gw, { sessionId: null }, { cookie })).toMatch(/^connected: /);
    expect(await adminSocket(stack, gw, {}, { cookie: 'sb_admin=' + 'B'.repeat(43) })).toBe(
      'refused: invalid credentials',
    );
  });
});

describe('dashboards without ADMIN_TOKEN', () => {
  const stack = new Stack(testConfig());
  afterAll(() => stack.close());

  it('answers 401 to every page and sign-in, and has no /admin socket namespace', async () => {
    const gw = await stack.gateway();
    for (const page of [...PAGES, '/admin/login', '/admin/queues/api/queues']) {
      for (const headers of [{}, basic('admin', 'anything-at-all-0123456789')]) {
        const res = await fetch(stack.url(gw, page), { headers, redirect: 'manual' });
        expect({ page, status: res.status }).toEqual({ page, status: 401 });
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="switchboard"');
      }
    }
    const login = await fetch(stack.url(gw, '/admin/login'), {
      method: 'POST',
      body: new URLSearchParams({ password: 'anything-at-all-0123456789' }),
      redirect: 'manual',
    });
    expect(login.status).toBe(401);
    expect(login.headers.get('set-cookie')).toBeNull();
    expect(
      await adminSocket(stack, gw, { username: 'admin', password: 'anything-at-all-0123456789' }),
    ).toBe('refused: Invalid namespace');
  });
});
