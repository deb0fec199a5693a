import type { EventMeta } from '../../src/catalog';
import { runSb, type CliRun as Run } from '../helpers/cli';
import { Stack, testConfig } from '../helpers/stack';
import { call, nextEvent } from '../helpers/wait';

/** Anonymous post-room clients: no presence transitions, so only the test's own windows are throttle. */
const ANONYMOUS = {};

/** Each CLI run is a real process, as an operator would start it. */
describe('sb CLI (real processes)', () => {
  // Each test has its own stack and Redis prefix; a test that needs a gateway starts it.
  let stack: Stack;
  beforeEach(() => {
    stack = new Stack(testConfig({ AUTH_MODE: 'anonymous' }));
  });
  afterEach(() => stack.close());

  const sb = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    runSb(stack.config, args, env);
  const oneErrorLine = (run: Run, pattern: RegExp) => {
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
  };

  it('throttle count, list, flush --key, drop, flush --all on real windows', async () => {
    const gw = await stack.gatewayWithParkedFlushes();
    const client = await stack.client(gw, '/social', ANONYMOUS);
    await call(client, 'join_post', { postId: 'cli1' });
    for (const [postId, n] of [
      ['cli1', 6],
      ['cli2', 2],
      ['cli3', 1],
    ] as const) {
      for (let i = 1; i <= n; i++)
        await gw.runtime.events.emit('post_liked', { postId, userId: 'u', likeCount: i });
    }

    const count = await sb(['throttle', 'count']);
    expect(count).toMatchObject({ code: 0, stdout: '3 open windows holding 9 events\n' });
    // The command's earlier name still answers.
    expect(await sb(['pending', 'count'])).toMatchObject({ code: 0, stdout: count.stdout });
    const countJson = await sb(['throttle', 'count', '--event', 'post_liked', '--json']);
    expect(JSON.parse(countJson.stdout)).toEqual({ windows: 3, events: 9 });

    const list = await sb(['throttle', 'list', '--json']);
    expect(list.code).toBe(0);
    const page = JSON.parse(list.stdout) as {
      items: { key: string; count: number }[];
      nextCursor: string | null;
    };
    expect(page.items.map((i) => [i.key, i.count])).toEqual([
      ['social:post_liked:post:cli1', 6],
      ['social:post_liked:post:cli2', 2],
      ['social:post_liked:post:cli3', 1],
    ]);
    const table = await sb(['throttle', 'list', '--limit', '2']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^KEY\s+EVENT\s+NAMESPACE\s+ROOM\s+COUNT\s+AGEMS\s+MODE$/,
    );
    expect(table.stdout).toContain('social:post_liked:post:cli2');
    // The cursor is opaque (the last item's place); following it gives the rest.
    const cursor = /more: --cursor (\S+)/.exec(table.stdout)?.[1];
    expect(cursor).toBeDefined();
    const rest = JSON.parse(
      (await sb(['throttle', 'list', '--json', '--cursor', cursor!])).stdout,
    ) as { items: { key: string }[]; nextCursor: string | null };
    expect(rest).toEqual({
      items: [expect.objectContaining({ key: 'social:post_liked:post:cli3' })],
      nextCursor: null,
    });

    const emitted = nextEvent<{ likeCount: number }, EventMeta>(client, 'post_liked');
    const flushOne = await sb(['throttle', 'flush', '--key', 'social:post_liked:post:cli1']);
    expect(flushOne).toMatchObject({ code: 0, stdout: 'flushed 1 windows (6 events)\n' });
    expect((await emitted)[1].coalesced).toBe(6);

    const drop = await sb(['throttle', 'drop', '--key', 'social:post_liked:post:cli2', '--json']);
    expect(drop.code).toBe(0);
    expect((JSON.parse(drop.stdout) as { dropped: unknown }).dropped).toMatchObject({
      key: 'social:post_liked:post:cli2',
      count: 2,
    });

    const flushAll = await sb(['throttle', 'flush', '--all']);
    expect(flushAll).toMatchObject({ code: 0, stdout: 'flushed 1 windows (1 events)\n' });
    expect(flushAll.stderr).toBe('flushed 1/1 windows\n');
    expect((await sb(['throttle', 'count', '--json'])).stdout).toContain('"windows": 0');
  });

  it('emit --force validates and emits at once', async () => {
    const gw = await stack.gatewayWithParkedFlushes();
    const client = await stack.client(gw, '/social', ANONYMOUS);
    await call(client, 'join_post', { postId: 'force' });
    const seen = nextEvent<{ likeCount: number }, EventMeta>(client, 'post_liked');
    const run = await sb([
      'emit',
      '--force',
      'post_liked',
      '--target',
      '{"postId":"force"}',
      '--data',
      '{"postId":"force","userId":"op","likeCount":5}',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const [data, meta] = await seen;
    expect(data.likeCount).toBe(5);
    expect(meta.id).toBe((JSON.parse(run.stdout) as { id: string }).id);
  });

  it('--help exits 0 everywhere', async () => {
    for (const args of [
      ['--help'],
      ['throttle', '--help'],
      ['throttle', 'list', '--help'],
      ['emit', '--help'],
    ]) {
      const run = await sb(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: sb/);
    }
  });

  it('bad input, missing windows and unreachable Redis: non-zero with one clear line', async () => {
    const cases: Array<[string[], number, RegExp, Record<string, string>?]> = [
      [['throttle', 'frobnicate'], 2, /^sb: usage: unknown command 'frobnicate'/],
      [['throttle', 'flush'], 2, /^sb: invalid_argument: throttle flush needs --all or --key/],
      [
        ['throttle', 'flush', '--all', '--key', 'social:post_liked:post:1'],
        2,
        /^sb: usage: option '--all' cannot be used with option '--key/,
      ],
      [
        ['throttle', 'drop', '--key', 'no spaces allowed'],
        2,
        /^sb: invalid_argument: invalid key: must look like/,
      ],
      [
        ['throttle', 'drop', '--key', 'social:post_liked:post:none'],
        1,
        /^sb: not_found: no open window social:post_liked:post:none/,
      ],
      [
        ['throttle', 'list', '--limit', 'lots'],
        2,
        /^sb: usage: option '--limit <n>' argument 'lots' is invalid/,
      ],
      [['throttle', 'count', '--event', 'nope'], 2, /^sb: invalid_argument: unknown event "nope"/],
      [
        ['emit', 'post_liked', '--data', '{}'],
        2,
        /^sb: invalid_argument: emit bypasses throttling: add --force/,
      ],
      [
        ['emit', '--force', 'post_liked', '--data', '{"postId":"1"}'],
        2,
        /^sb: invalid_payload: invalid post_liked payload at userId/,
      ],
      [
        ['emit', '--force', 'post_liked', '--data', '{oops'],
        2,
        /^sb: invalid_argument: --data is not valid JSON/,
      ],
      [
        ['emit', '--force', 'no_such', '--data', '{}'],
        2,
        /^sb: unknown_event: unknown event "no_such"/,
      ],
      [
        ['throttle', 'count'],
        1,
        /^sb: unavailable: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/,
        { REDIS_URL: 'redis://127.0.0.1:1' },
      ],
    ];
    for (const [args, code, pattern, env] of cases) {
      const run = await sb(args, env);
      expect({ args, code: run.code }).toEqual({ args, code });
      oneErrorLine(run, pattern);
    }
  });
});
