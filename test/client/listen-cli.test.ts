import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { recordOrderOwner } from '../../src/domain/orders';
import type { Gateway } from '../../src/gateway/server';
import { configEnv, killChild, ROOT, Stack, waitForOutput } from '../helpers/stack';
import { until } from '../helpers/wait';

/** `npm run listen` (scripts/listen.ts) runs on the client library and keeps its output format. */
describe('npm run listen on the client library', () => {
  const stack = new Stack();
  let gw: Gateway;
  beforeAll(async () => {
    gw = await stack.gateway();
    await stack.worker();
  });
  afterAll(() => stack.close(), 30_000);

  function listen(...args: string[]) {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts/listen.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...configEnv(stack.config), LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    stack.children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it('joins the room and prints `<time> <event> <data> <meta>` lines', async () => {
    await recordOrderOwner(gw.runtime, 'l1', 'lu');
    const run = listen(
      '/orders',
      'order:l1',
      '--url',
      `http://127.0.0.1:${gw.port}`,
      '--user',
      'lu',
    );
    await waitForOutput(
      run.child,
      `listening on /orders order:l1 (http://127.0.0.1:${gw.port})`,
      20_000,
    );
    const { id } = await gw.runtime.events.emit('order_status_changed', {
      orderId: 'l1',
      status: 'shipped',
    });
    await until(() => run.out().includes(id), 10_000, 'the event line');
    const printed = run
      .out()
      .split('\n')
      .find((l) => l.includes(id))!;
    const match = /^(\S+) order_status_changed (\{.*\}) (\{.*\})$/.exec(printed);
    expect(match).not.toBeNull();
    expect(new Date(match![1]!).toISOString()).toBe(match![1]);
    expect(JSON.parse(match![2]!)).toEqual({ orderId: 'l1', status: 'shipped' });
    expect(JSON.parse(match![3]!)).toMatchObject({
      id,
      ns: '/orders',
      room: 'order:l1',
      offset: expect.any(String) as unknown,
    });
    await killChild(run.child, 'SIGINT');
  }, 40_000);

  it('exits 1 when the join is refused, 2 on a room the namespace does not have', async () => {
    await recordOrderOwner(gw.runtime, 'l2', 'owner');
    const refused = listen(
      '/orders',
      'order:l2',
      '--url',
      `http://127.0.0.1:${gw.port}`,
      '--user',
      'intruder',
    );
    const wrong = listen('/orders', 'post:1');
    expect(await refused.exited).toBe(1);
    expect(refused.err()).toContain('listen: join refused: not allowed in order:l2');
    expect(await wrong.exited).toBe(2);
    expect(wrong.err()).toContain('listen: /orders has no room like post:1 (try order:<id>)');
  }, 40_000);
});
