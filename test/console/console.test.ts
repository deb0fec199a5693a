import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserServer, Page } from 'playwright-core';
import { closeChromium, launchChromium } from '../helpers/chromium';
import type { Gateway } from '../../src/gateway/server';
import { ROOT, Stack, testConfig } from '../helpers/stack';

/**
 * The live console (/console) driven in headless Chromium (Debian's /usr/bin/chromium, installed
 * by scripts/ensure-chromium.sh) against a real gateway and worker. Flushes are parked, so a
 * throttled event published from the page stays throttle until the page flushes it.
 */
const ADMIN_TOKEN = 'admin-token-for-console-test-0123';
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
const STEP_MS = 10_000;

describe('live console in headless Chromium', () => {
  const stack = new Stack(testConfig({ ADMIN_TOKEN, ADMIN_UI: 'on' }));
  let server: BrowserServer | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await closeChromium(server, browser);
    await stack.close();
  }, 30_000);

  /** Text of an element once it matches `selector` (waits up to STEP_MS). */
  const textOf = async (page: Page, selector: string) =>
    (await page.waitForSelector(selector, { timeout: STEP_MS })).textContent();

  it('joins a room, shows published events with their meta, shows validation errors, lists and flushes a throttle window', async () => {
    const gw: Gateway = await stack.gatewayWithParkedFlushes();
    ({ server, browser } = await launchChromium());
    // A new context: a fresh profile (no cookies or storage) on top of the temporary user-data dir.
    const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      // The invalid publish below is answered 400 on purpose; Chromium logs that as an error.
      if (msg.type() === 'error' && !/status of 400 \(Bad Request\)/.test(msg.text()))
        pageErrors.push(msg.text());
    });

    await page.goto(stack.url(gw, '/console'));
    await page.waitForSelector('body.ready');

    // Connect to /social with a JWT and join post:p1 through join_post.
    await page.fill('#jwt', await stack.token('console-user'));
    await page.selectOption('#namespace', '/social');
    await page.click('#connect');
    await page.waitForSelector('#status[data-state="connected"]');
    await page.selectOption('#room-kind', 'post');
    await page.fill('#room-id', 'p1');
    await page.click('#join');
    await page.waitForSelector('#rooms li[data-room="post:p1"]');
    expect(await textOf(page, '#join-result.ok')).toContain(
      'join_post {"postId":"p1"} → joined post:p1',
    );

    // Publish an immediate event through POST /api/events; it arrives on the page with its meta.
    await page.fill('#publish-token', stack.config.PUBLISH_TOKEN);
    await page.selectOption('#event', 'post_commented');
    await page.fill('#target', '');
    await page.fill(
      '#data',
      JSON.stringify({
        postId: 'p1',
        commentId: 'c1',
        userId: 'u1',
        text: 'hello from the console',
      }),
    );
    await page.click('#publish');
    const accepted = await textOf(page, '#publish-result.ok');
    const eventId = /id ([0-9a-f-]{36})/.exec(accepted ?? '')?.[1];
    expect(eventId).toBeDefined();
    const comment = await page.waitForSelector(
      `#events li[data-event="post_commented"][data-id="${eventId}"]`,
    );
    expect(await comment.getAttribute('data-room')).toBe('post:p1');
    expect(JSON.parse(((await (await comment.$('pre.data'))?.textContent()) ?? '').trim())).toEqual(
      {
        postId: 'p1',
        commentId: 'c1',
        userId: 'u1',
        text: 'hello from the console',
      },
    );
    const meta = JSON.parse(
      ((await (await comment.$('pre.meta'))?.textContent()) ?? '').replace(/^meta /, ''),
    ) as Record<string, unknown>;
    expect(meta).toMatchObject({ id: eventId, ns: '/social', room: 'post:p1' });
    expect(meta.offset).toMatch(/^\d+-\d+$/);
    expect(typeof meta.ts).toBe('number');

    // An invalid payload: the API's 400 with its issues is shown, nothing is delivered.
    await page.fill('#data', JSON.stringify({ postId: 'p1', commentId: 'c2', userId: 'u1' }));
    await page.click('#publish');
    expect(await textOf(page, '#publish-result.error')).toContain('400 invalid_payload');
    expect(await page.locator('#publish-result .issues li').allTextContents()).toContain(
      'text: Invalid input: expected string, received undefined',
    );
    // And a body that is not JSON is caught on the page.
    await page.fill('#data', '{ nope');
    await page.click('#publish');
    expect(await textOf(page, '#publish-result.error')).toContain('data is not valid JSON');

    // A throttled event stays throttle (flush jobs are parked): list it with the admin token, flush it.
    await page.selectOption('#event', 'post_liked');
    await page.fill('#data', JSON.stringify({ postId: 'p1', userId: 'u2', likeCount: 7 }));
    await page.click('#publish');
    const windowId = /id ([0-9a-f-]{36})/.exec(
      (await textOf(page, '#publish-result.ok')) ?? '',
    )?.[1];
    await page.fill('#admin-token', ADMIN_TOKEN);
    await page.click('#throttle-refresh');
    const row = await page.waitForSelector('#throttle tr[data-key="social:post_liked:post:p1"]');
    // (The user's presence change is another open window: user_status_changed on /notification.)
    expect(await textOf(page, '#throttle-result.ok')).toMatch(/^\d+ open windows?$/);
    expect(await page.locator('#events li[data-event="post_liked"]').count()).toBe(0);
    await (await row.$('button.flush'))?.click();
    const like = await page.waitForSelector(
      `#events li[data-event="post_liked"][data-id="${windowId}"]`,
    );
    const likeMeta = JSON.parse(
      ((await (await like.$('pre.meta'))?.textContent()) ?? '').replace(/^meta /, ''),
    ) as Record<string, unknown>;
    expect(likeMeta).toMatchObject({ id: windowId, room: 'post:p1', coalesced: 1 });
    expect(await textOf(page, '#throttle-result.ok')).toContain(
      'flushed social:post_liked:post:p1: 1 event(s)',
    );
    await page.waitForSelector('#throttle tr[data-key="social:post_liked:post:p1"]', {
      state: 'detached',
    });
    expect(await page.textContent('#event-count')).toBe('2');

    // Tokens live in this tab's sessionStorage only: no localStorage, no cookies.
    // (A string: the test compiles without the DOM library.)
    const storage: unknown = await page.evaluate(
      '({ local: localStorage.length, session: Object.keys(sessionStorage).sort() })',
    );
    expect(storage).toEqual({
      local: 0,
      session: [
        'sb.console.admin',
        'sb.console.event',
        'sb.console.jwt',
        'sb.console.namespace',
        'sb.console.publish',
      ],
    });
    expect(await context.cookies()).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'console.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 60_000);
});
