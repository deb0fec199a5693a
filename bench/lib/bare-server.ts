/**
 * The yardstick of the connections scenario: a bare Socket.IO server (`node bare-server.js`,
 * PORT and HOST from the environment) with socket.io's default options, one namespace `/orders`
 * and a `join_order { orderId }` handler that joins `order:<orderId>` and acks, like the
 * gateway's. No auth, no Redis adapter, no presence, no rate limits: what one connection costs in
 * socket.io itself.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const http = createServer();
const io = new Server(http);

io.of('/orders').on('connection', (socket) => {
  socket.on(
    'join_order',
    (payload: { orderId?: unknown } | undefined, ack?: (res: unknown) => void) => {
      const room = `order:${String(payload?.orderId)}`;
      void socket.join(room);
      if (typeof ack === 'function') ack({ ok: true, data: { room } });
    },
  );
});

http.listen(port, host, () => {
  const addr = http.address();
  process.stdout.write(`bare ready ${typeof addr === 'object' && addr ? addr.port : port}\n`);
});
