/**
 * Client process of the replay scenario: `node replay-clients.js <url> <chatId> <since>` (forked
 * with IPC, REPLAY_TOKENS = one token per socket). `run { durationMs }` makes every socket re-join
 * the chat with `since` in a loop for that long (leave, join with since, wait for its replay) and
 * answers what they got: re-joins done, refused as rate_limited, events and bytes received.
 */
import type { Socket } from 'socket.io-client';
import { openSocket } from './lib/open-socket';
import { serve } from './lib/procs';

interface Ack {
  ok: boolean;
  data?: { recovered?: number };
  error?: { code: string; retryAfterMs?: number };
}

const [url = '', chatId = '', since = ''] = process.argv.slice(2);
const tokens = JSON.parse(process.env.REPLAY_TOKENS ?? '[]') as string[];
const sockets: Socket[] = [];
let events = 0;
let bytes = 0;

async function connect(): Promise<number> {
  for (const token of tokens) {
    const socket = await openSocket(`${url}/chat`, token, 'replay client');
    socket.on('new_message', (data: { content?: string }) => {
      events++;
      bytes += data.content?.length ?? 0;
    });
    sockets.push(socket);
  }
  return sockets.length;
}

async function loop(
  socket: Socket,
  until: number,
  counts: { rejoins: number; limited: number; recovered: number },
): Promise<void> {
  while (Date.now() < until) {
    await socket.timeout(30_000).emitWithAck('leave_chat', { chatId });
    const ack = (await socket.timeout(60_000).emitWithAck('join_chat', { chatId, since })) as Ack;
    if (ack.ok) {
      counts.rejoins++;
      counts.recovered += ack.data?.recovered ?? 0;
    } else if (ack.error?.code === 'rate_limited') {
      counts.limited++;
      await new Promise((r) => setTimeout(r, ack.error?.retryAfterMs ?? 100));
    } else throw new Error(`join_chat refused: ${JSON.stringify(ack.error)}`);
  }
}

serve({
  connect: () => connect(),
  run: async ({ durationMs }: { durationMs: number }) => {
    events = bytes = 0;
    const counts = { rejoins: 0, limited: 0, recovered: 0 };
    const until = Date.now() + durationMs;
    await Promise.all(sockets.map((s) => loop(s, until, counts)));
    return { ...counts, events, contentBytes: bytes };
  },
});
