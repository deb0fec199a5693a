import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Stack, testConfig } from '../helpers/stack';

/**
 * The gateway listens with LISTEN_BACKLOG, not Node's 511: a storm of clients connecting at once
 * (after a deploy or a network blip) waits in the kernel's queue instead of failing. For a
 * listening socket, `ss` reports the backlog as its Send-Q (capped by net.core.somaxconn).
 */
function listenBacklog(port: number): number {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.trim().startsWith('LISTEN'));
  if (!line) throw new Error(`no listening socket on port ${port}: ${out}`);
  return Number(line.trim().split(/\s+/)[2]);
}

const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

describe('listen backlog', () => {
  it.each([
    ['the default', {}, Math.min(4096, somaxconn)],
    ['LISTEN_BACKLOG=1000', { LISTEN_BACKLOG: '1000' }, Math.min(1000, somaxconn)],
  ])('%s', async (_name, env: Record<string, string>, expected) => {
    const stack = new Stack(testConfig(env));
    try {
      const gw = await stack.gateway();
      expect(listenBacklog((gw.http.address() as AddressInfo).port)).toBe(expected);
    } finally {
      await stack.close();
    }
  });
});
