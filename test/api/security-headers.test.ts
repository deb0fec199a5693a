import type { Browser, BrowserServer, Page } from 'playwright-core';
import { closeChromium, launchChromium } from '../helpers/chromium';
import type { Gateway } from '../../src/gateway/server';
import { Stack, testConfig } from '../helpers/stack';

const ADMIN_TOKEN = 'security-headers-admin-token-0123';
const STEP_MS = 15_000;

const ORDER_EVENT = {
  event: 'order_status_changed',
  target: { orderId: 'sec1' },
  data: { orderId: 'sec1', status: 'paid' },
};

/** helmet's headers, the same on every answer of the gateway's HTTP port (the CSP aside). */
const HELMET = [
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

const pick = (res: Response, names: string[]) =>
  Object.fromEntries(names.map((n) => [n, res.headers.get(n)]));

/**
 * helmet on the whole HTTP app (src/api/security-headers.ts, in front of express and the publish
 * hot path): the JSON API, its errors, the console and the admin pages carry the security headers,
 * each page with a CSP of its own, and the admin pages still work under theirs in Chromium (Bull
 * Board, the Socket.IO Admin UI, the sign-in form: no CSP violation, the page renders).
 */
describe('security headers', () => {
  const stack = new Stack(testConfig({ ADMIN_TOKEN, ADMIN_UI: 'on' }));
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
  });
  afterAll(() => stack.close());

  const publish = (path: string) =>
    fetch(stack.url(gw, path), {
      method: 'POST',
      headers: stack.apiHeaders(),
      body: JSON.stringify(ORDER_EVENT),
    });

  it('puts them on JSON API answers, on the hot path and through express alike', async () => {
    const hot = await publish('/api/events');
    const viaExpress = await publish('/api/events?via=express');
    const spec = await fetch(stack.url(gw, '/api/openapi.json'));
    const missing = await fetch(stack.url(gw, '/api/nothing-here'), {
      headers: stack.apiHeaders(),
    });
    expect([hot.status, viaExpress.status, spec.status, missing.status]).toEqual([
      202, 202, 200, 404,
    ]);
    for (const res of [hot, viaExpress, spec, missing]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      // A gateway speaks for its own host only.
      expect(res.headers.get('strict-transport-security')).toBe('max-age=15552000');
      // JSON loads nothing and is never framed.
      expect(res.headers.get('content-security-policy')).toBe(
        "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
      );
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(pick(hot, [...HELMET, 'content-security-policy'])).toEqual(
      pick(viaExpress, [...HELMET, 'content-security-policy']),
    );
  });

  it("gives the console its own CSP (scripts and styles from this gateway only), with helmet's other headers", async () => {
    const page = await fetch(stack.url(gw, '/console'));
    const api = await fetch(stack.url(gw, '/healthz'));
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-powered-by')).toBeNull();
    expect(pick(page, HELMET)).toEqual(pick(api, HELMET));
  });

  it('gives the admin pages a CSP with inline styles but no inline scripts', async () => {
    const basic = `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`;
    const pages = await Promise.all(
      ['/admin/login', '/admin/queues/', '/admin/socket.io/'].map((p) =>
        fetch(stack.url(gw, p), { headers: { authorization: basic } }),
      ),
    );
    for (const res of pages) {
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  describe('the admin pages in headless Chromium', () => {
    let server: BrowserServer | undefined;
    let browser: Browser | undefined;
    beforeAll(async () => {
      ({ server, browser } = await launchChromium());
    }, 30_000);
    afterAll(async () => {
      await closeChromium(server, browser);
    }, 30_000);

    /** Opens `path` signed in (HTTP Basic), waits for `selector`, and returns what the CSP refused. */
    const open = async (path: string, selector: string): Promise<string[]> => {
      const context = await browser!.newContext({
        httpCredentials: { username: 'admin', password: ADMIN_TOKEN },
      });
      const refused: string[] = [];
      await context.exposeFunction('cspViolation', (what: string) => refused.push(what));
      // In the page, before its own scripts: every violation, reported back to the test.
      await context.addInitScript({
        content: `document.addEventListener('securitypolicyviolation', (e) =>
          window.cspViolation(e.violatedDirective + ' ' + e.blockedURI));`,
      });
      const page: Page = await context.newPage();
      page.on('console', (msg) => {
        if (/Content Security Policy/i.test(msg.text())) refused.push(msg.text());
      });
      try {
        await page.goto(stack.url(gw, path));
        await page.waitForSelector(selector, { timeout: STEP_MS });
        return refused;
      } finally {
        await context.close();
      }
    };

    it('renders the sign-in form with its inline style', async () => {
      expect(await open('/admin/login', 'form input[type="password"]')).toEqual([]);
    });

    it('renders Bull Board', async () => {
      expect(await open('/admin/queues/', 'text=Switchboard queues')).toEqual([]);
    });

    it('renders the Socket.IO Admin UI', async () => {
      expect(await open('/admin/socket.io/', '.v-application')).toEqual([]);
    });
  });
});
