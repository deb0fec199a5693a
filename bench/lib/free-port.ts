import { createServer } from 'node:net';

/**
 * Ports handed to processes that bind them later (redis-server, nginx, a launcher's gateways) are
 * taken below Linux's ephemeral range (32768-60999 by default): a port the OS picked for `listen(0)`
 * and let go is soon picked again for another test's server or an outgoing connection, and the
 * process that binds it seconds later fails with EADDRINUSE. Nothing else here binds in 20000-32767
 * but what these helpers pick.
 */
const LOW = 20_000;
const HIGH = 32_767;

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 outside the ephemeral range, checked by binding it once. Shared by
 * the bench and the tests (test/helpers), which both start servers on ports of their own.
 * `alsoFree`: offsets of ports the process binds besides (a Redis Cluster node's bus is port +
 * 10000), which must be free too.
 */
export async function freePort(alsoFree: readonly number[] = []): Promise<number> {
  const high = HIGH - Math.max(0, ...alsoFree);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + Math.floor(Math.random() * (high - LOW + 1));
    if (await tryListen(port)) {
      const others = await Promise.all(alsoFree.map((offset) => tryListen(port + offset)));
      if (others.every(Boolean)) return port;
    }
  }
  throw new Error(`no free port in ${LOW}-${high} after 50 tries`);
}
