/**
 * Stalled clients (forked with IPC, `node stalled-clients.js <url>`): socket.io-client websocket
 * connections that join a room and then stop reading. Their TCP socket is paused
 * (`socket.io.engine.transport.ws._socket.pause()`, Node's `ws` under engine.io-client), so the
 * kernel's receive buffer fills, the gateway's send buffer fills, and whatever else the gateway
 * has for them piles up in its own memory until it closes them (MAX_CLIENT_BUFFER_BYTES).
 * A stalled client learns of that only once it reads again: `resume` resumes every socket and
 * waits for their disconnects.
 *
 * Commands: `connect { tokens, orderId }` opens tokens.length sockets (one per token), joins them
 * to the order room and pauses them; `resume { waitMs }` resumes them and reports who was
 * disconnected (reason, websocket close code) and what each received; `close` closes them all.
 */
import type { Socket } from 'socket.io-client';
import { openSocket } from './open-socket';
import { BENCH_EVENT, BENCH_NS } from './protocol';
import { serve } from './procs';

interface Tcp {
  pause(): void;
  resume(): void;
}

interface Stalled {
  socket: Socket;
  tcp: Tcp;
  received: number;
  /** Size of one order_status_changed websocket frame's payload ("4" + the socket.io packet). */
  frameBytes: number;
  disconnect?: { reason: string; code?: number; closeReason?: string; atMs: number };
}

const [url = ''] = process.argv.slice(2);
let sockets: Stalled[] = [];
let resumedAt = 0;

function tcpOf(socket: Socket): Tcp {
  const transport = (
    socket.io.engine as unknown as { transport: { name: string; ws?: { _socket?: Tcp } } }
  ).transport;
  const tcp = transport.ws?._socket;
  if (!tcp || typeof tcp.pause !== 'function')
    throw new Error(`no TCP socket under the ${transport.name} transport`);
  return tcp;
}

async function open(token: string, orderId: string): Promise<Stalled> {
  const socket = await openSocket(`${url}${BENCH_NS}`, token, 'stalled');
  const ack = (await socket.timeout(5000).emitWithAck('join_order', { orderId })) as {
    ok: boolean;
  };
  if (!ack.ok) throw new Error(`stalled join_order refused: ${JSON.stringify(ack)}`);
  const s: Stalled = { socket, tcp: tcpOf(socket), received: 0, frameBytes: 0 };
  socket.on(BENCH_EVENT, () => s.received++);
  socket.io.engine.on('data', (data: unknown) => {
    if (s.frameBytes === 0 && typeof data === 'string' && data.includes(BENCH_EVENT))
      s.frameBytes = Buffer.byteLength(data) + 1;
  });
  socket.on('disconnect', (reason, details) => {
    const ctx = (details as { context?: { code?: unknown; reason?: unknown } } | undefined)
      ?.context;
    s.disconnect = {
      reason,
      ...(typeof ctx?.code === 'number' ? { code: ctx.code } : {}),
      ...(typeof ctx?.reason === 'string' && ctx.reason !== '' ? { closeReason: ctx.reason } : {}),
      atMs: resumedAt > 0 ? Math.round(performance.now() - resumedAt) : -1,
    };
  });
  return s;
}

serve({
  connect: async ({ tokens, orderId }: { tokens: string[]; orderId: string }) => {
    const opened = await Promise.all(tokens.map((t) => open(t, orderId)));
    for (const s of opened) s.tcp.pause();
    sockets = opened;
    resumedAt = 0;
    return { stalled: sockets.length };
  },
  /** Resumes reading; waits until every socket is disconnected or waitMs passed. */
  resume: async ({ waitMs }: { waitMs: number }) => {
    // Disconnected while paused (nothing read yet): only a local error could do that.
    const before = sockets.filter((s) => s.disconnect).length;
    resumedAt = performance.now();
    for (const s of sockets) s.tcp.resume();
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && sockets.some((s) => !s.disconnect))
      await new Promise((r) => setTimeout(r, 50));
    const reasons: Record<string, number> = {};
    for (const s of sockets) {
      if (!s.disconnect) continue;
      const key = `${s.disconnect.reason}${s.disconnect.code !== undefined ? ` (close ${s.disconnect.code}${s.disconnect.closeReason ? ` ${s.disconnect.closeReason}` : ''})` : ''}`;
      reasons[key] = (reasons[key] ?? 0) + 1;
    }
    return {
      stalled: sockets.length,
      disconnectedBeforeResume: before,
      disconnected: sockets.filter((s) => s.disconnect).length,
      stillConnected: sockets.filter((s) => !s.disconnect).length,
      reasons,
      /** Events each stalled socket got in the end (what was already on the wire when it was cut off). */
      receivedPerSocket: sockets.map((s) => s.received),
      disconnectAfterResumeMs: sockets.map((s) => s.disconnect?.atMs ?? null),
      frameBytes: Math.max(0, ...sockets.map((s) => s.frameBytes)),
    };
  },
  close: () => {
    for (const s of sockets) {
      s.tcp.resume();
      s.socket.disconnect();
    }
    const n = sockets.length;
    sockets = [];
    return { closed: n };
  },
});

process.send?.({ event: 'ready' });
