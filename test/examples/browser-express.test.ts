import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser, BrowserServer, Page } from 'playwright-core';
import { closeChromium, launchChromium } from '../helpers/chromium';
import { Redis } from 'ioredis';
import { openGateway } from '../../src/app/gateway';
import { createKeys } from '../../src/redis/keys';
import type { Gateway } from '../../src/gateway/server';
import { consumerProject, packPackages, tsc } from '../helpers/packages';
import { configEnv, killChild, ROOT, Stack, testConfig } from '../helpers/stack';
import { until } from '../helpers/wait';

const STEP_MS = 20_000;

interface PageState {
  received: Array<{ status: string; id: string; recovered: boolean }>;
  connects: number;
}

/** Starts `node <file>` in `cwd` and resolves with the port its "http://127.0.0.1:<port>" line names. */
function startNode(
  file: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [file], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const port = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (port) resolve({ child, port: Number(port) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}: ${out}`)));
  });
}

/**
 * The two Node-side examples as a user runs them: a project outside the repo with only the
 * packed tarballs installed, examples/browser bundled with esbuild and opened in headless Chromium,
 * examples/express-backend type-checked (strict) and run, publishing with @switchboard/publisher
 * into a real gateway and worker. The page must see every status once and in order, also the ones
 * published while its gateway was down (recovered after the restart).
 */
describe('examples/browser and examples/express-backend against a real gateway', () => {
  const stack = new Stack(testConfig());
  let project: string;
  const children: ChildProcess[] = [];
  let server: BrowserServer | undefined;
  let browser: Browser | undefined;
  let redis: Redis | undefined;

  beforeAll(async () => {
    const tarballs = await packPackages();
    project = await consumerProject('examples', [
      tarballs.client,
      tarballs.publisher,
      'express@^5',
      '@types/express@^5',
      '@types/node@^20',
    ]);
    cpSync(path.join(ROOT, 'examples', 'browser'), path.join(project, 'browser'), {
      recursive: true,
      filter: (f) => !f.includes(`${path.sep}node_modules`) && !f.includes(`${path.sep}dist`),
    });
    cpSync(path.join(ROOT, 'examples', 'express-backend'), path.join(project, 'express-backend'), {
      recursive: true,
      filter: (f) => !f.includes(`${path.sep}node_modules`),
    });
  }, 420_000);

  afterAll(async () => {
    await closeChromium(server, browser);
    for (const child of children) await killChild(child);
    redis?.disconnect();
    await stack.close();
    if (project) rmSync(project, { recursive: true, force: true });
  }, 30_000);

  it('the express example type-checks strictly against the installed publisher', async () => {
    // The example's own tsconfig, resolving from the project's node_modules (one level up).
    expect(await tsc(path.join(project, 'express-backend'))).toEqual({ ok: true, output: '' });
  }, 120_000);

  it('a page joins an order room, the express backend publishes, the page recovers after a gateway restart', async () => {
    // The page: bundled by esbuild from the installed @switchboard/client, served by its serve.mjs.
    await build({
      entryPoints: [path.join(project, 'browser', 'main.ts')],
      absWorkingDir: project,
      bundle: true,
      format: 'esm',
      target: 'es2020',
      outfile: path.join(project, 'browser', 'dist', 'main.js'),
      logLevel: 'silent',
    });
    const page$ = await startNode('serve.mjs', path.join(project, 'browser'), { PORT: '0' });
    children.push(page$.child);
    const pageOrigin = `http://127.0.0.1:${page$.port}`;

    const config = { ...stack.config, CORS_ORIGINS: pageOrigin };
    let gw: Gateway = await openGateway(config);
    const gatewayPort = gw.port;
    await stack.worker();

    // The backend: the example's server.ts, transpiled as tsx would run it, on the stack's Redis.
    await build({
      entryPoints: [path.join(project, 'express-backend', 'src', 'server.ts')],
      outfile: path.join(project, 'express-backend', 'server.mjs'),
      platform: 'node',
      format: 'esm',
      bundle: false,
      logLevel: 'silent',
    });
    const env = configEnv(stack.config);
    redis = new Redis(stack.config.REDIS_URL);
    const backend$ = await startNode('server.mjs', path.join(project, 'express-backend'), {
      REDIS_URL: env.REDIS_URL!,
      KEY_PREFIX: env.KEY_PREFIX!,
      QUEUE_NAME: env.QUEUE_NAME!,
      PORT: '0',
    });
    children.push(backend$.child);
    const setStatus = async (status: string) => {
      const res = await fetch(`http://127.0.0.1:${backend$.port}/orders/ex1/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    ({ server, browser } = await launchChromium(STEP_MS));
    const page: Page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(STEP_MS);
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const token = await stack.token('ops', ['admin']);
    const query = new URLSearchParams({
      gateway: `http://127.0.0.1:${gatewayPort}`,
      order: 'ex1',
      token,
    });
    await page.goto(`${pageOrigin}/?${query.toString()}`);
    await page.waitForSelector('body.joined');
    const state = () =>
      page.evaluate(() => {
        const sb = (
          globalThis as unknown as { switchboard: { received: unknown; connects(): number } }
        ).switchboard;
        return { received: sb.received, connects: sb.connects() } as PageState;
      });
    const receivedCount = (n: number) =>
      page.waitForFunction(
        (count) =>
          (globalThis as unknown as { switchboard: { received: unknown[] } }).switchboard.received
            .length >= count,
        n,
      );

    // Live: the backend's route publishes, the page shows it.
    const paid = await setStatus('paid');
    expect(paid.status).toBe(202);
    expect(typeof paid.body.id).toBe('string');
    await receivedCount(1);
    expect(await page.textContent('#events li')).toBe('paid');

    // The gateway goes away; the backend keeps publishing (into the queue; history keeps them).
    await gw.close();
    await page.waitForSelector('#state[data-state="disconnected"]');
    expect((await setStatus('preparing')).status).toBe(202);
    expect((await setStatus('shipped')).status).toBe(202);
    // Wait until the worker emitted both (into the room's history), so they can only come back
    // by recovery, never live.
    const history = createKeys(stack.config.KEY_PREFIX).history('/orders', 'order:ex1');
    await until(async () => (await redis!.xlen(history)) === 3, 15_000, 'both in the history');
    // Back on the same port: the page reconnects, re-joins with its last offset, recovers both.
    gw = await openGateway({ ...config, PORT: gatewayPort });
    stack.gateways.push(gw);
    await receivedCount(3);

    // A retried request (same idempotency key) publishes nothing; the next change arrives next.
    const delivered = await setStatus('delivered');
    const again = await setStatus('delivered');
    expect(again.body).toEqual({ id: delivered.body.id, replayed: true });
    expect((await setStatus('cancelled')).status).toBe(202);
    await receivedCount(5);

    const { received, connects } = await state();
    expect(received.map((e) => e.status)).toEqual([
      'paid',
      'preparing',
      'shipped',
      'delivered',
      'cancelled',
    ]);
    expect(received.map((e) => e.recovered)).toEqual([false, true, true, false, false]);
    expect(new Set(received.map((e) => e.id)).size).toBe(5);
    expect(received[0]!.id).toBe(paid.body.id);
    expect(connects).toBeGreaterThanOrEqual(2);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
