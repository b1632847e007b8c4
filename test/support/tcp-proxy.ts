/**
 * A TCP forwarder on a free loopback port to a real server, which a test can cut: `close()` stops
 * listening and drops every connection, so whatever used it now points at a closed port; `cut()`
 * drops every connection and refuses new ones at once while keeping the port, until `restore()`
 * (an outage as a client sees it).
 */
import net from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private server?: net.Server;
  private open = true;
  port = 0;

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    const [host, port] = [this.target.slice(0, this.target.lastIndexOf(':')), Number(this.target.split(':').pop())];
    this.server = net.createServer((client) => {
      if (!this.open) return void client.destroy();
      const upstream = net.connect(port, host === 'localhost' ? '127.0.0.1' : host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => (s === client ? upstream : client).destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
