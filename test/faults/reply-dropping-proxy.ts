/**
 * Loopback TCP proxy that can lose one reply: once armed, it closes the connection when the
 * next bytes arrive from Redis instead of forwarding them. The command before them was
 * executed, so the client sees a connection that dropped after the write but before the reply,
 * which test/support/tcp-proxy.ts cannot time from outside.
 */
import net from 'node:net';

const LOOPBACK_HOST = '127.0.0.1';

export class ReplyDroppingProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private armed = false;
  private listeningPort: number | undefined;
  /** Replies that were dropped together with their connection. */
  droppedReplies = 0;

  constructor(private readonly targetPort: number) {
    this.server = net.createServer((client) => this.accept(client));
  }

  get port(): number {
    if (this.listeningPort === undefined) {
      throw new Error('Reply-dropping proxy is not listening; call listen() first.');
    }
    return this.listeningPort;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, LOOPBACK_HOST, () => {
        const address = this.server.address();
        this.listeningPort = typeof address === 'object' && address !== null ? address.port : undefined;
        resolve();
      });
    });
  }

  /** Drops the next reply from Redis on any connection, and that connection with it. */
  arm(): void {
    this.armed = true;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect({ host: LOOPBACK_HOST, port: this.targetPort });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (this.armed) {
        this.armed = false;
        this.droppedReplies += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
