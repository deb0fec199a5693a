import { chromium, type Browser, type BrowserServer } from 'playwright-core';

/** Debian's Chromium (scripts/ensure-chromium.sh installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * A headless Chromium server and a browser connected to it. Without the background-networking
 * flags Chromium keeps trying hosts this machine's closed network refuses.
 */
export async function launchChromium(timeoutMs = 20_000): Promise<{
  server: BrowserServer;
  browser: Browser;
}> {
  const server = await chromium.launchServer({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: timeoutMs,
  });
  const browser = await chromium.connect(server.wsEndpoint(), { timeout: timeoutMs });
  return { server, browser };
}

/**
 * Closes the browser, then its server by handle, and kills the server's process (by pid) if it
 * has not exited within 5 s.
 */
export async function closeChromium(
  server: BrowserServer | undefined,
  browser: Browser | undefined,
): Promise<void> {
  await browser?.close().catch(() => undefined);
  if (!server) return;
  const child = server.process();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    server.close().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, 5000))),
  ]);
  clearTimeout(timer);
  if (child.exitCode === null && child.signalCode === null) await server.kill();
}
