import type { Server as EngineServer, Socket as EngineSocket } from 'engine.io';
import { logger } from '../logger';

const log = logger('outbound');

import { SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON } from '../wire/protocol';

export { SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON };
/** After the close frame, how long a client that still does not read keeps its socket. */
const TERMINATE_AFTER_MS = 5_000;

/** Engine connections closed as slow consumers, so their sockets' disconnects can say so (metrics). */
const slowConsumers = new WeakSet<object>();

/** Marks a connection about to be closed for not reading (here, or by a recovery replay). */
export function markSlowConsumer(conn: object): void {
  slowConsumers.add(conn);
}

/** True if the engine connection was closed because its client did not read (socket.io says `forced close`). */
export function closedAsSlowConsumer(conn: object): boolean {
  return slowConsumers.has(conn);
}

export interface OutboundStats {
  /** Connections closed because their outbound buffer passed the cap. */
  slowConsumerDisconnects: number;
}

/** The parts of ws's WebSocket this uses (engine.io's websocket transport keeps it as `socket`). */
interface Ws {
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
  terminate(): void;
}

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * Bounds what the gateway buffers for one client: engine.io's write buffer (packets waiting for
 * the transport) plus the websocket's own buffer (ws's queue and the TCP socket's unsent bytes).
 * A client that stops reading (a phone in a tunnel, a frozen tab) makes both grow; past `maxBytes`
 * the connection is closed with code 4008 `slow_consumer` (a client that reads again sees it), its
 * buffers are dropped, and the socket is destroyed if the close does not finish in 5 s. Other
 * clients of the same rooms are not affected. The client re-joins with `since` and recovers what
 * it missed from the room history. Costs one listener call and two additions per packet.
 */
export function capOutboundBuffers(
  engine: EngineServer,
  maxBytes: number,
  stats: OutboundStats,
): void {
  engine.on('connection', (conn: EngineSocket) => {
    // Bytes handed to engine.io since its last flush to the transport (the write buffer's size).
    let pending = 0;
    let closed = false;
    conn.on('flush', () => {
      pending = 0;
    });
    conn.on('packetCreate', (packet: { data?: unknown }) => {
      if (closed) return;
      pending += sizeOf(packet.data);
      const ws =
        conn.transport.name === 'websocket'
          ? (conn.transport as unknown as { socket: Ws }).socket
          : undefined;
      const buffered = pending + (ws?.bufferedAmount ?? 0);
      if (buffered <= maxBytes) return;
      closed = true;
      stats.slowConsumerDisconnects += 1;
      markSlowConsumer(conn);
      log.warn(
        { remote: conn.remoteAddress, bufferedBytes: buffered, maxBytes },
        'closing a slow consumer: outbound buffer over MAX_CLIENT_BUFFER_BYTES',
      );
      if (ws) {
        ws.close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON);
        setTimeout(() => ws.terminate(), TERMINATE_AFTER_MS).unref();
      }
      // Discard what engine.io still holds; later packets to a closing connection are dropped.
      conn.close(true);
    });
  });
}
