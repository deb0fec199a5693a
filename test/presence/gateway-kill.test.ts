import type { ChildProcess } from 'node:child_process';
import type { Gateway } from '../../src/gateway/server';
import { killChild, Stack, testConfig } from '../helpers/stack';
import { call, recordItems, sleep, until } from '../helpers/wait';

type Status = { userId: string; status: 'online' | 'offline' };

const TTL_MS = 1500;
const HEARTBEAT_MS = 250;

/** Starts `src/app/gateway-main.ts` as a child process and resolves with the port it bound. */
function spawnGateway(stack: Stack): Promise<{ child: ChildProcess; port: number }> {
  const child = stack.spawnTs('src/app/gateway-main.ts', { PORT: '0' });
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start:\n${seen.slice(-2000)}`)),
      20_000,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const port = /"port":(\d+)[^\n]*"gateway ready"/.exec(seen)?.[1];
      if (port) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve({ child, port: Number(port) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

describe('a gateway killed with SIGKILL', () => {
  const stack = new Stack(
    testConfig({ PRESENCE_TTL_MS: String(TTL_MS), PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS) }),
  );
  afterAll(() => stack.close());

  it('takes its users offline within the TTL, except those connected elsewhere', async () => {
    const survivor = await stack.gateway();
    await stack.worker();
    const { child, port } = await spawnGateway(stack);
    const doomed = { port } as Gateway;

    const watcher = await stack.client(survivor, '/notification', await stack.auth('watcher'));
    await call(watcher, 'join_presence');
    const changes = recordItems<Status>(watcher, 'user_status_changed');
    const statusesOf = (userId: string) =>
      changes.filter(([d]) => d.userId === userId).map(([d]) => d.status);

    const lonely = await stack.client(doomed, '/social', await stack.auth('lonely'));
    await stack.client(doomed, '/social', await stack.auth('roaming'));
    await stack.client(survivor, '/social', await stack.auth('roaming'));
    await call(lonely, 'join_post', { postId: 'k' });
    await until(
      () => statusesOf('lonely').length === 1 && statusesOf('roaming').length === 1,
      5000,
      'both online',
    );
    expect(await call(watcher, 'get_online')).toMatchObject({
      data: { users: ['lonely', 'roaming', 'watcher'] },
    });
    const observer = await stack.client(survivor, '/social', await stack.auth('watcher'));
    expect(await call(observer, 'get_presence', { room: 'post:k' })).toMatchObject({
      data: { users: ['lonely'] },
    });

    const killedAt = Date.now();
    await killChild(child);
    // Bounded by the lease: TTL plus one heartbeat of the survivor, plus delivery through the queue.
    await until(
      () => statusesOf('lonely').join() === 'online,offline',
      TTL_MS + HEARTBEAT_MS + 3000,
      'lonely offline',
    );
    const offlineAfterMs = Date.now() - killedAt;
    process.stdout.write(
      `offline ${offlineAfterMs} ms after SIGKILL (TTL ${TTL_MS} ms, heartbeat ${HEARTBEAT_MS} ms)\n`,
    );

    expect(await call(watcher, 'get_online')).toMatchObject({
      data: { users: ['roaming', 'watcher'] },
    });
    expect(await call(observer, 'get_presence', { room: 'post:k' })).toMatchObject({
      data: { users: [] },
    });
    // A few more heartbeats: roaming never had a false offline. The wait is the test's own (the
    // heartbeats must happen); the barrier then delivers what they published: a new user comes
    // online, and a transition published before it has reached the watcher first.
    await sleep(HEARTBEAT_MS * 3);
    await stack.client(survivor, '/social', await stack.auth('barrier-user'));
    await until(
      () => statusesOf('barrier-user').join() === 'online',
      5000,
      'the barrier user online',
    );
    expect(statusesOf('roaming')).toEqual(['online']);
  });
});
