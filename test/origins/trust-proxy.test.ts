import { request, type IncomingHttpHeaders } from 'node:http';
import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import { addressSubject } from '../../src/origins/client-address';
import type { Gateway } from '../../src/gateway/server';
import { createKeys } from '../../src/redis/keys';
import { startNginx, type Nginx } from '../helpers/nginx';
import { TEST_REDIS_URL } from '../helpers/redis';
import { Stack, testConfig } from '../helpers/stack';

/**
 * TRUST_PROXY: which proxies a gateway believes about the client. Clients come from distinct
 * loopback addresses (Linux routes all of 127.0.0.0/8 to lo): each request and socket binds its
 * local address, so nginx (and a gateway reached directly) sees 127.0.0.2, 127.0.0.3, ...
 */

const ADMIN_TOKEN = 'admin-token-for-trust-proxy-0123';
/** Small buckets: 5 requests, then one more per second. */
const BURST = 5;
const LIMITS = {
  RATE_HTTP_BURST: String(BURST),
  RATE_HTTP_PER_SEC: '1',
  ADMIN_TOKEN,
  ADMIN_UI: 'on',
};

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request on a new connection from the local address `from`. */
function send(
  url: string,
  from: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        localAddress: from,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Statuses of `n` requests sent one after another. */
async function statuses(
  n: number,
  url: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) seen.push((await send(url, from, { headers })).status);
  return seen;
}

/**
 * Spends the bucket of the client at `from`: requests until one answers 429 (the bucket holds
 * BURST, so within BURST + 3 even if a token or two refilled meanwhile). Returns the statuses.
 */
async function exhaust(
  url: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<number[]> {
  const seen: number[] = [];
  while (seen.at(-1) !== 429 && seen.length < BURST + 3)
    seen.push((await send(url, from, { headers })).status);
  expect(seen.at(-1)).toBe(429);
  return seen;
}

/** Signs in to the Admin UI's `/admin` namespace from `from`: 'connected' or the connect_error message. */
function adminSignIn(
  stack: Stack,
  base: string,
  from: string,
  auth: Record<string, unknown>,
): Promise<string> {
  // `localAddress` reaches the `ws` websocket, which engine.io-client passes it to (not in its types).
  const options = {
    auth,
    transports: ['websocket'],
    localAddress: from,
    reconnection: false,
    forceNew: true,
  };
  const socket = io(`${base}/admin`, options);
  stack.sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => {
      resolve('connected');
      socket.disconnect();
    });
    socket.once('connect_error', (err) => resolve(`refused: ${err.message}`));
  });
}

/** Admin UI sign-in attempts with a wrong password from `from` until refused for too many attempts. */
async function exhaustAdminSignIn(stack: Stack, base: string, from: string): Promise<string[]> {
  const seen: string[] = [];
  while (!seen.at(-1)?.startsWith('refused: too many attempts') && seen.length < BURST + 3) {
    seen.push(
      await adminSignIn(stack, base, from, {
        username: 'admin',
        password: 'not-the-admin-token-0123',
      }),
    );
  }
  expect(seen.at(-1)).toMatch(/^refused: too many attempts; retry in \d+ ms$/);
  return seen;
}

/** Which of `addresses` have an HTTP bucket in Redis (the buckets of `/admin` and the Admin UI). */
async function bucketsOf(stack: Stack, addresses: string[]): Promise<string[]> {
  const keys = createKeys(stack.config.KEY_PREFIX);
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const present: string[] = [];
    for (const address of addresses)
      if ((await redis.exists(keys.rateBucket('http', addressSubject(address)))) === 1)
        present.push(address);
    return present;
  } finally {
    redis.disconnect();
  }
}

/** Everything one test starts: a gateway with `overrides`, and optionally the shipped nginx in front. */
class Setup {
  stack!: Stack;
  gw!: Gateway;
  nginx: Nginx | undefined;

  async start(overrides: Record<string, string>, withNginx: boolean): Promise<this> {
    this.stack = new Stack(testConfig({ ...LIMITS, ...overrides }));
    this.gw = await this.stack.gateway();
    if (withNginx) this.nginx = await startNginx([this.gw.port]);
    return this;
  }

  /** The address clients use: nginx's, or the gateway's own. */
  get base(): string {
    return this.nginx ? `http://127.0.0.1:${this.nginx.port}` : `http://127.0.0.1:${this.gw.port}`;
  }

  async close(): Promise<void> {
    await this.nginx?.stop();
    await this.stack.close();
  }
}

const setups: Setup[] = [];
const setUp = async (overrides: Record<string, string>, withNginx: boolean) => {
  const setup = new Setup();
  setups.push(setup);
  return setup.start(overrides, withNginx);
};
afterEach(async () => {
  for (const setup of setups.splice(0)) await setup.close();
});

describe('behind deploy/nginx.conf, with TRUST_PROXY=1', () => {
  it('gives each client its own bucket on /admin and /admin/login', async () => {
    const { base, stack } = await setUp({ TRUST_PROXY: '1' }, true);
    // The JSON /admin API without a token answers 401, and is charged to the caller's address.
    const first = await exhaust(`${base}/admin/queue`, '127.0.0.2');
    expect(first.slice(0, BURST)).toEqual(Array<number>(BURST).fill(401));
    expect((await send(`${base}/admin/login`, '127.0.0.2')).status).toBe(429);
    // Another client, while the first is refused: all of its own bucket.
    expect(await statuses(3, `${base}/admin/login`, '127.0.0.3')).toEqual([200, 200, 200]);
    expect(await statuses(2, `${base}/admin/queue`, '127.0.0.3')).toEqual([401, 401]);
    // Charged to the clients' addresses as nginx saw them, not to nginx's.
    expect(await bucketsOf(stack, ['127.0.0.1', '127.0.0.2', '127.0.0.3'])).toEqual([
      '127.0.0.2',
      '127.0.0.3',
    ]);
  });

  it('keeps a client that sends its own X-Forwarded-For in its own bucket (nginx appends the address it saw)', async () => {
    const { base, stack } = await setUp({ TRUST_PROXY: '1' }, true);
    await exhaust(`${base}/admin/login`, '127.0.0.2');
    const spoofed = await send(`${base}/admin/login`, '127.0.0.2', {
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(spoofed.status).toBe(429);
    expect(await bucketsOf(stack, ['127.0.0.2', '203.0.113.9'])).toEqual(['127.0.0.2']);
  });

  it("charges the Admin UI namespace's sign-in attempts to each client, in the bucket of its HTTP requests", async () => {
    const { base, stack } = await setUp({ TRUST_PROXY: '1' }, true);
    const attempts = await exhaustAdminSignIn(stack, base, '127.0.0.2');
    expect(attempts.slice(0, BURST)).toEqual(
      Array<string>(BURST).fill('refused: invalid credentials'),
    );
    // Another client signs in while the first is refused.
    expect(
      await adminSignIn(stack, base, '127.0.0.3', { username: 'admin', password: ADMIN_TOKEN }),
    ).toBe('connected');
    // One bucket per client for its sockets and its HTTP requests alike.
    expect((await send(`${base}/admin/login`, '127.0.0.2')).status).toBe(429);
    expect(await bucketsOf(stack, ['127.0.0.1', '127.0.0.2', '127.0.0.3'])).toEqual([
      '127.0.0.2',
      '127.0.0.3',
    ]);
  });

  it('believes nginx about the scheme, not the client: plain HTTP stays ws and the cookie not Secure', async () => {
    const { base, nginx } = await setUp({ TRUST_PROXY: '1' }, true);
    const https = { 'x-forwarded-proto': 'https' };
    const spec = await send(`${base}/api/asyncapi.json`, '127.0.0.2', { headers: https });
    expect(spec.status).toBe(200);
    expect(
      (JSON.parse(spec.body) as { servers: { gateway: { host: string; protocol: string } } })
        .servers.gateway,
    ).toMatchObject({
      host: `127.0.0.1:${nginx!.port}`,
      protocol: 'ws',
    });
    const login = await send(`${base}/admin/login`, '127.0.0.2', {
      method: 'POST',
      headers: { ...https, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: ADMIN_TOKEN }).toString(),
    });
    expect(login.status).toBe(303);
    expect(String(login.headers['set-cookie'])).toMatch(
      /^sb_admin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
  });
});

describe('behind deploy/nginx.conf, without TRUST_PROXY', () => {
  it('puts every client in one bucket, nginx’s (what TRUST_PROXY fixes)', async () => {
    const { base, stack } = await setUp({}, true);
    await exhaust(`${base}/admin/queue`, '127.0.0.2');
    // The second client finds the bucket empty: at most a token refilled meanwhile.
    expect(
      (await statuses(3, `${base}/admin/login`, '127.0.0.3')).filter((s) => s === 429).length,
    ).toBeGreaterThanOrEqual(2);
    expect(await bucketsOf(stack, ['127.0.0.1', '127.0.0.2', '127.0.0.3'])).toEqual(['127.0.0.1']);
  });

  it("charges every client's Admin UI sign-in to nginx's address", async () => {
    const { base, stack } = await setUp({}, true);
    await exhaustAdminSignIn(stack, base, '127.0.0.2');
    expect(
      await adminSignIn(stack, base, '127.0.0.3', { username: 'admin', password: ADMIN_TOKEN }),
    ).toMatch(/^refused: too many attempts/);
    expect(await bucketsOf(stack, ['127.0.0.1', '127.0.0.2', '127.0.0.3'])).toEqual(['127.0.0.1']);
  });
});

describe('a gateway reached directly', () => {
  const spoof = { 'x-forwarded-for': '198.51.100.7' };

  it('without TRUST_PROXY, gives a client that sends its own X-Forwarded-For no new bucket', async () => {
    const { base, stack } = await setUp({}, false);
    await exhaust(`${base}/admin/login`, '127.0.0.2');
    expect((await send(`${base}/admin/login`, '127.0.0.2', { headers: spoof })).status).toBe(429);
    expect(await bucketsOf(stack, ['127.0.0.2', '198.51.100.7'])).toEqual(['127.0.0.2']);
  });

  it('with TRUST_PROXY=1 it would (why a gateway clients reach directly must not set it)', async () => {
    const { base, stack } = await setUp({ TRUST_PROXY: '1' }, false);
    await exhaust(`${base}/admin/login`, '127.0.0.2');
    expect((await send(`${base}/admin/login`, '127.0.0.2', { headers: spoof })).status).toBe(200);
    expect(await bucketsOf(stack, ['127.0.0.2', '198.51.100.7'])).toEqual([
      '127.0.0.2',
      '198.51.100.7',
    ]);
  });

  it('with TRUST_PROXY as an address list, believes only those proxies about the client', async () => {
    const { base, stack } = await setUp({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }, false);
    // From the trusted proxy's address: the forwarded client's bucket.
    expect(
      (
        await send(`${base}/admin/login`, '127.0.0.1', {
          headers: { 'x-forwarded-for': '192.0.2.10' },
        })
      ).status,
    ).toBe(200);
    // From anywhere else: the header is not believed.
    expect(
      (
        await send(`${base}/admin/login`, '127.0.0.2', {
          headers: { 'x-forwarded-for': '192.0.2.11' },
        })
      ).status,
    ).toBe(200);
    expect(await bucketsOf(stack, ['127.0.0.1', '192.0.2.10', '127.0.0.2', '192.0.2.11'])).toEqual([
      '192.0.2.10',
      '127.0.0.2',
    ]);
  });

  const login = (base: string, from: string, headers: Record<string, string>) =>
    send(`${base}/admin/login`, from, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: ADMIN_TOKEN }).toString(),
    }).then((res) => {
      expect(res.status).toBe(303);
      return String(res.headers['set-cookie']);
    });
  const serverOf = (base: string, from: string, headers: Record<string, string>) =>
    send(`${base}/api/asyncapi.json`, from, { headers }).then((res) => {
      expect(res.status).toBe(200);
      return (JSON.parse(res.body) as { servers: { gateway: { protocol: string } } }).servers
        .gateway.protocol;
    });
  const https = { 'x-forwarded-proto': 'https' };

  it('marks the admin cookie Secure and names wss when a trusted proxy says the request came over https', async () => {
    const { base } = await setUp({ TRUST_PROXY: '127.0.0.1' }, false);
    // This test is the proxy in front, at 127.0.0.1, which TRUST_PROXY trusts.
    expect(await login(base, '127.0.0.1', https)).toMatch(
      /; HttpOnly; SameSite=Strict; Max-Age=28800; Secure$/,
    );
    expect(await serverOf(base, '127.0.0.1', https)).toBe('wss');
    // The same proxy saying nothing (plain HTTP): neither.
    expect(await login(base, '127.0.0.1', {})).not.toContain('Secure');
    expect(await serverOf(base, '127.0.0.1', {})).toBe('ws');
    // Anyone else saying it is not believed.
    expect(await login(base, '127.0.0.2', https)).not.toContain('Secure');
    expect(await serverOf(base, '127.0.0.2', https)).toBe('ws');
  });

  it('without TRUST_PROXY, believes no X-Forwarded-Proto: no Secure, ws', async () => {
    const { base } = await setUp({}, false);
    expect(await login(base, '127.0.0.1', https)).not.toContain('Secure');
    expect(await serverOf(base, '127.0.0.1', https)).toBe('ws');
  });
});
