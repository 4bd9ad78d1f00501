/**
 * Loopback TCP proxy that a test controls, for network fault tests.
 *
 * pause() stops forwarding in both directions but keeps every socket open, which is
 * how a silent network partition looks to a client: writes succeed, no reply arrives
 * and no 'close' event fires. dropConnections() is the opposite fault, an abrupt close.
 */
import net from 'node:net';

const LOOPBACK_HOST = '127.0.0.1';

export interface TcpProxy {
  /** Port the proxy listens on, on 127.0.0.1. */
  readonly port: number;
  readonly targetPort: number;
  /** Number of client connections that are currently open. */
  readonly connectionCount: number;
  readonly paused: boolean;
  /** Stops forwarding bytes in both directions without closing any socket. */
  pause(): void;
  /** Forwards again, including the bytes that arrived while paused. */
  resume(): void;
  /** Destroys every current client socket and its upstream socket. New connections still work. */
  dropConnections(): void;
  /** Stops listening and destroys every current connection. */
  close(): Promise<void>;
}

interface ProxiedConnection {
  client: net.Socket;
  upstream: net.Socket;
}

/** Starts a proxy on a free 127.0.0.1 port that forwards to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const proxy = new LoopbackTcpProxy(targetPort);
  await proxy.listen();
  return proxy;
}

class LoopbackTcpProxy implements TcpProxy {
  private readonly connections = new Set<ProxiedConnection>();
  private readonly server: net.Server;
  private isPaused = false;
  private listeningPort: number | undefined;

  constructor(readonly targetPort: number) {
    this.server = net.createServer((client) => this.accept(client));
  }

  get port(): number {
    if (this.listeningPort === undefined) {
      throw new Error('TCP proxy is not listening');
    }
    return this.listeningPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, LOOPBACK_HOST, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (typeof address !== 'object' || address === null) {
          reject(new Error('Failed to read the TCP proxy port'));
          return;
        }
        this.listeningPort = address.port;
        resolve();
      });
    });
  }

  pause(): void {
    this.isPaused = true;
    for (const { client, upstream } of this.connections) {
      client.pause();
      upstream.pause();
    }
  }

  resume(): void {
    this.isPaused = false;
    for (const { client, upstream } of this.connections) {
      resumeUnlessBackedUp(client, upstream);
      resumeUnlessBackedUp(upstream, client);
    }
  }

  dropConnections(): void {
    for (const { client, upstream } of this.connections) {
      client.destroy();
      upstream.destroy();
    }
    this.connections.clear();
  }

  close(): Promise<void> {
    if (!this.server.listening) {
      this.dropConnections();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      // server.close() waits for open connections, so drop them after it stops accepting.
      this.dropConnections();
    });
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect({ host: LOOPBACK_HOST, port: this.targetPort });
    const connection: ProxiedConnection = { client, upstream };
    this.connections.add(connection);

    if (this.isPaused) {
      client.pause();
      upstream.pause();
    }
    this.forward(client, upstream);
    this.forward(upstream, client);

    // 'close' follows every 'error', so the close handlers below do the cleanup.
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('close', () => {
      upstream.destroy();
      this.connections.delete(connection);
    });
    // end() sends what the target already replied before the FIN, so a client sees the
    // reply to QUIT. An unreachable target shows up as a connection that closes at once.
    upstream.on('close', () => client.end());
  }

  /** Copies bytes from `source` to `target`, pausing `source` while `target`'s buffer is full. */
  private forward(source: net.Socket, target: net.Socket): void {
    source.on('data', (chunk: Buffer) => {
      if (!target.write(chunk)) {
        source.pause();
      }
    });
    target.on('drain', () => {
      if (!this.isPaused) {
        source.resume();
      }
    });
    source.on('end', () => target.end());
  }
}

function resumeUnlessBackedUp(source: net.Socket, target: net.Socket): void {
  if (!target.writableNeedDrain) {
    source.resume();
  }
}
