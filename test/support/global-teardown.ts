/**
 * Jest globalTeardown: stops the throwaway redis-server if globalSetup started one.
 *
 * Jest loads this file with Node's own module loader, which cannot resolve a relative
 * `./global-setup.js` to its TypeScript source, so the handle comes from globalThis
 * under the same Symbol.for key that global-setup.ts exports as THROWAWAY_SERVER_KEY.
 */
const THROWAWAY_SERVER_KEY = Symbol.for('@ai-pipeline/events:test-redis-server');

interface StoppableServer {
  stop(): Promise<void>;
}

type GlobalWithServer = typeof globalThis & { [THROWAWAY_SERVER_KEY]?: StoppableServer };

export default async function globalTeardown(): Promise<void> {
  const globals = globalThis as GlobalWithServer;
  const server = globals[THROWAWAY_SERVER_KEY];
  if (server === undefined) {
    return;
  }
  delete globals[THROWAWAY_SERVER_KEY];
  await server.stop();
}
