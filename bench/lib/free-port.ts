import { createServer } from 'node:net';

/**
 * A free TCP port on 127.0.0.1: the OS picks one, the probe server lets it go. Shared by the
 * bench and the tests (test/helpers), which both start servers on ports of their own.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
