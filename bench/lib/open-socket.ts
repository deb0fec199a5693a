import { io, type Socket } from 'socket.io-client';

/**
 * One websocket socket.io connection to `url` (a namespace URL) with `token`, resolved once
 * connected: no reconnection, a fresh engine per socket (as separate browsers would have). A
 * refused handshake rejects with `<label> connect_error: <message>`.
 */
export async function openSocket(url: string, token: string, label = 'socket'): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { token },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err: Error) => {
      socket.close();
      reject(new Error(`${label} connect_error: ${err.message}`));
    });
  });
  return socket;
}
