import { spawn } from 'node:child_process';
import { compileScript } from '../support/compile-script.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait-for.js';

// The sample runs as its own process here, as `npm run sample` does, so a real SIGTERM reaches it.
describe('sample process', () => {
  let script: string;
  let server: RedisServer;
  let proxy: TcpProxy;

  beforeAll(async () => {
    script = compileScript('sample/main.ts', ['lib', 'sample']);
    server = await startRedisServer();
  }, 90_000);

  afterAll(async () => {
    await server.stop();
  });

  beforeEach(async () => {
    proxy = await startTcpProxy(server.port);
  });

  afterEach(async () => {
    await proxy.close();
  });

  it('closes every service on SIGTERM in the middle of a run', async () => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    try {
      await waitFor(() => stdout.includes('Started 8 services'), { message: 'the services to start', timeoutMs: 30_000 });
      // Holding Redis's replies keeps the topic from reaching the admin UI before the signal.
      proxy.pause();
      child.kill('SIGTERM');
      await waitFor(() => stdout.includes('Received SIGTERM'), { message: 'the signal to be handled' });
      proxy.resume();

      const code = await exited;
      expect(code).toBe(143);
      expect(stdout).toContain('Closed all services.');
      expect(stdout).not.toContain('Topic chain:');
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
