// One plugin's concern, served for real: a bare Fastify with only the plugins that concern needs,
// a fresh context, an in-memory SQLite store (or one the test gives), listening on 127.0.0.1
// port 0, so that the plugin tests in server/plugins/ drive it with real HTTP and ws clients.
import Fastify, { type FastifyInstance } from 'fastify';
import type { AppOptions } from '../../server/app-types';
import { newDeviceCredential } from '../../server/auth';
import { newServerContext, type ServerContext } from '../../server/plugins/context';
import { SqliteStore } from '../../server/sqlite-store';
import type { EventStore } from '../../server/store';

export type Plugin = (app: FastifyInstance, ctx: ServerContext) => Promise<void>;

/** The admin token every bare server is given. */
export const ADMIN = 'plugin-harness-admin-token-5b0e9c7d2a41f3';
/** The one page origin the bare servers allow to open sockets (FRAMEWISE_ORIGINS). */
export const ORIGIN = 'https://app.framewise.test';

export interface BareServer {
  readonly app: FastifyInstance;
  readonly ctx: ServerContext;
  readonly store: EventStore;
  /** Every line the server logged, in order. */
  readonly lines: string[];
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops it as createApp's close does (timers and feeds first, then sockets), then closes its store (one given to it too). */
  close(): Promise<void>;
}

export interface BareOptions extends Partial<AppOptions> {
  /** Routes of the test's own, registered after the plugins (a stand-in for a socket route, say). */
  readonly routes?: (app: FastifyInstance, ctx: ServerContext) => void;
}

const running = new Set<BareServer>();

/**
 * Registers `plugins` in order on a bare Fastify and listens. The Host allow-list is the address
 * listened on (`127.0.0.1:<port>`, what a client that dials it sends), the origins ORIGIN only.
 */
export async function bareServer(plugins: readonly Plugin[], opts: BareOptions = {}): Promise<BareServer> {
  const { routes, ...given } = opts;
  const store = given.store ?? (await SqliteStore.open(':memory:'));
  const lines: string[] = [];
  const ctx = newServerContext({
    adminToken: ADMIN,
    hosts: (port) => [`127.0.0.1:${port}`],
    origins: [ORIGIN],
    log: (l) => lines.push(l),
    ...given,
    store,
  });
  const app = Fastify({ logger: false, forceCloseConnections: true });
  for (const p of plugins) await app.register(p, ctx);
  routes?.(app, ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // As RunningApp.listen does: the lists that depend on the port are known once listening.
  if (typeof ctx.opts.hosts === 'function') ctx.allowed.hosts = ctx.opts.hosts(port);
  if (typeof ctx.opts.origins === 'function') ctx.allowed.origins = ctx.opts.origins(port);
  let closed: Promise<void> | undefined;
  const server: BareServer = {
    app,
    ctx,
    store,
    lines,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      (closed ??= (async () => {
        running.delete(server);
        for (const stop of ctx.onShutdown) stop();
        ctx.devices.closeAll();
        const wss = (app as { websocketServer?: { clients: Set<{ terminate(): void }> } }).websocketServer;
        for (const ws of wss?.clients ?? []) ws.terminate();
        await app.close();
        await store.close();
      })()),
  };
  running.add(server);
  return server;
}

/** Closes every bare server still open (for afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.close()));
}

/** A device enrolled into `store` as enrolment would: its id and the token only the device holds. */
export async function enrolled(store: EventStore, name: string): Promise<{ deviceId: string; token: string }> {
  const cred = newDeviceCredential();
  await store.createDevice({ deviceId: cred.deviceId, name, secretHash: cred.secretHash, createdAt: Date.now(), revokedAt: null });
  return { deviceId: cred.deviceId, token: cred.token };
}

/**
 * `store` with its `append` replaced by `append(original, ...args)`: a slow disk, a stuck one, one
 * that fails, in front of a real store.
 */
export function withAppend(store: EventStore, append: (original: EventStore['append'], ...args: Parameters<EventStore['append']>) => ReturnType<EventStore['append']>): EventStore {
  const original = store.append.bind(store);
  return new Proxy(store, {
    get(target, key) {
      if (key === 'append') return (...args: Parameters<EventStore['append']>) => append(original, ...args);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
