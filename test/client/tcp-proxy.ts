import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 between a client and a gateway, standing in for the network. `cut()`
 * is a network drop: every connection through it is reset (both ends see their TCP connection
 * die, as when a Wi-Fi link or a NAT mapping goes) and new connections are reset on arrival until
 * `restore()`. Nothing is told to the application or the library; what the gateway sends meanwhile
 * never arrives. (A silent drop, where no reset comes, is only noticed by engine.io's ping timeout,
 * 45 s by default: the recovery that follows is the same.)
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private down = false;
  /** Connections reset while the link was down (reconnect attempts the library made). */
  refused = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => {
      proxy.accept(client, targetPort);
    });
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket, targetPort: number): void {
    client.on('error', () => undefined);
    if (this.down) {
      this.refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Resets every connection and refuses new ones until restore(). */
  cut(): void {
    this.down = true;
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
