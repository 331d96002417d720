// The backend: the built PWA, device enrolment, the sync socket, the admin API and the
// dashboard's live feed, on Fastify. Every request passes the Host allow-list; every socket
// the connection caps; every secret is compared in constant time; nothing a client sends can
// throw out of a handler.
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { existsSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { join, resolve, sep } from 'node:path';
import * as v from 'valibot';
import type { WebSocket } from 'ws';
import {
  CLOSE,
  EnrollRequestSchema,
  EventsQuerySchema,
  LIMITS,
  SessionIdSchema,
  type ClientConfig,
  type EnrollResponse,
} from '../src/sync/protocol';
import { bearer, newDeviceCredential, sameSecret } from './auth';
import { LiveFeed, newLiveStats, type LiveStats } from './live';
import { eventsJson, type Store } from './store';
import { trainerRoutes } from './trainer-routes';
import { newSyncStats, SyncConnection, type SyncStats } from './sync-connection';

export interface AppOptions {
  readonly store: Store;
  /** The operator's credential: reads the API, the live feed and the dashboard's data. */
  readonly adminToken: string;
  /** When set, enrolment must carry it; otherwise anyone who can reach the server can enrol a device. */
  readonly enrollCode?: string;
  /** Host header values served (lower case, host:port); `*` serves any. A function gets the port listened on (for port 0). */
  readonly hosts: readonly string[] | ((port: number) => readonly string[]);
  /** Origins allowed to open sockets and to enrol from a page; `*` allows any. A request without Origin is not from a page. */
  readonly origins: readonly string[] | ((port: number) => readonly string[]);
  /** The built PWA; served when the directory exists. */
  readonly staticDir?: string;
  readonly pingIntervalMs?: number;
  /** Token bucket per sync socket: sustained messages per second, and burst. */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  readonly enrollPerMinute?: number;
  readonly httpPerMinute?: number;
  readonly maxConnections?: number;
  readonly maxConnectionsPerIp?: number;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly liveStallMs?: number;
  /** Behind a reverse proxy: which proxies' X-Forwarded-For to believe (Fastify's trustProxy), so rate limits apply per client, not per proxy. */
  readonly trustProxy?: false | string[];
  readonly log?: (line: string) => void;
}

export interface AppStats extends SyncStats, LiveStats {
  /** Sync sockets accepted. */
  connections: number;
  /** TCP connections open now, and refused at accept time by the caps. */
  openConnections: number;
  refusedConnections: number;
  rejectedUpgrades: number;
  refusedHosts: number;
  deadPeers: number;
  revokedSockets: number;
  enrolled: number;
  httpErrors: number;
}

export interface RunningApp {
  readonly fastify: FastifyInstance;
  readonly server: Server;
  readonly stats: AppStats;
  /** Resolves with the address once listening. */
  listen(port: number, host: string): Promise<{ port: number }>;
  close(): Promise<void>;
}

const SOCKET_ROUTES = new Set(['/sync', '/live']);
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'x-content-type-options': 'nosniff' };

/** Route validation from the valibot schemas in protocol.ts, in place of Fastify's JSON-schema compiler. */
function valibotCompiler({ schema }: { schema: unknown }) {
  const s = schema as v.GenericSchema;
  return (data: unknown) => {
    const r = v.safeParse(s, data, { abortEarly: true });
    if (r.success) return { value: r.output };
    const issue = r.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join('.');
    const error = new Error(`${path ? `${path}: ` : ''}${issue.message}`.slice(0, 160));
    return { error };
  };
}

/** Node marks a request that arrived as an 'upgrade' (a WebSocket handshake); the typings do not declare it. */
const isUpgrade = (request: FastifyRequest) => (request.raw as { upgrade?: boolean }).upgrade === true;

const normaliseIp = (ip: string | undefined) => (ip ?? 'unknown').replace(/^::ffff:/, '');

export async function createApp(opts: AppOptions): Promise<RunningApp> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const stats: AppStats = {
    ...newSyncStats(),
    ...newLiveStats(),
    connections: 0,
    openConnections: 0,
    refusedConnections: 0,
    rejectedUpgrades: 0,
    refusedHosts: 0,
    deadPeers: 0,
    revokedSockets: 0,
    enrolled: 0,
    httpErrors: 0,
  };
  const { store } = opts;
  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(opts.requestTimeoutMs ?? 30_000, headersTimeout);

  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024,
    routerOptions: { maxParamLength: 200 },
    // A path with a bad %-escape is the client's mistake: 400, with the same headers as every other answer.
    frameworkErrors: (err, _request, reply) => {
      void (reply as FastifyReply)
        .code(err.statusCode && err.statusCode < 500 ? err.statusCode : 400)
        .headers(ISOLATION)
        .send({ error: err.message });
    },
    // Slowloris: a client that trickles its headers or body is cut when the deadline passes,
    // however often it sends a byte; an idle socket is cut after idleTimeoutMs.
    connectionTimeout: opts.idleTimeoutMs ?? 60_000,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
    requestTimeout,
    http: { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeout / 4))), maxHeaderSize: 16 * 1024 },
    forceCloseConnections: true,
    return503OnClosing: true,
    trustProxy: opts.trustProxy ?? false,
  });
  const server = app.server;

  // ---- connection caps, at accept time, before a byte is parsed ----
  const perIp = new Map<string, number>();
  const maxTotal = opts.maxConnections ?? 1000;
  const maxPerIp = opts.maxConnectionsPerIp ?? 100;
  server.prependListener('connection', (socket: Socket) => {
    const ip = normaliseIp(socket.remoteAddress);
    const mine = perIp.get(ip) ?? 0;
    if (stats.openConnections >= maxTotal || mine >= maxPerIp) {
      stats.refusedConnections++;
      socket.destroy();
      return;
    }
    stats.openConnections++;
    perIp.set(ip, mine + 1);
    socket.once('close', () => {
      stats.openConnections--;
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Node's default answers 400 and closes; a timed-out request gets 408. Either way, never a crash.
    if (socket.writable && !socket.destroyed) {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });

  app.setValidatorCompiler(valibotCompiler);

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      stats.httpErrors++;
      log(`http: ${request.method} ${request.url}: ${err.stack ?? err.message}`);
    }
    void reply.code(status).header('cache-control', 'no-store').send({ error: status === 500 ? 'internal error' : err.message });
  });

  // Lists that depend on the port are known once listening; until then nothing is served.
  let hosts: readonly string[] = typeof opts.hosts === 'function' ? [] : opts.hosts;
  let origins: readonly string[] = typeof opts.origins === 'function' ? [] : opts.origins;

  // ---- every request: the Host allow-list (DNS rebinding) and the isolation headers ----
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host?.toLowerCase();
    if (!hosts.includes('*') && (!host || !hosts.includes(host))) {
      stats.refusedHosts++;
      if (isUpgrade(request)) stats.rejectedUpgrades++;
      return reply.code(421).header('connection', 'close').send({ error: `this server does not answer for host "${host ?? ''}" (FRAMEWISE_HOSTS)` });
    }
    // Only the two socket routes upgrade; any other path (the static wildcard included) answers a WebSocket handshake with 404.
    if (isUpgrade(request) && !SOCKET_ROUTES.has(request.routeOptions.url ?? '')) return reply.code(404).header('connection', 'close').send({ error: 'no socket here' });
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(ISOLATION);
    return payload;
  });

  await app.register(fastifyRateLimit, { global: true, max: opts.httpPerMinute ?? 1200, timeWindow: 60_000 });
  // A page served elsewhere may enrol (POST /api/devices) from the allowed origins; nothing else is shared cross-origin.
  const originAllowed = (origin: string | undefined) => origin === undefined || origins.includes('*') || origins.includes(origin);
  await app.register(fastifyCors, {
    delegator: (req, cb) => {
      const path = (req.url ?? '').split('?')[0];
      const origin = req.headers.origin;
      if (path === '/api/devices' && origin !== undefined && originAllowed(origin)) cb(null, { origin, methods: ['POST'], allowedHeaders: ['content-type'], maxAge: 600 });
      else cb(null, { origin: false });
    },
  });
  await app.register(fastifyWebsocket, {
    options: { maxPayload: LIMITS.maxMessageBytes },
    errorHandler: (err, socket) => {
      log(`ws: ${err.message}`);
      socket.terminate();
    },
  });

  // ---- public ----
  const enrollment: ClientConfig['enrollment'] = opts.enrollCode ? 'code' : 'open';
  app.get('/framewise-config.json', async (_req, reply) => {
    const config: ClientConfig = { syncPath: '/sync', enrollPath: '/api/devices', enrollment };
    return reply.header('cache-control', 'no-store').send(config);
  });

  app.post(
    '/api/devices',
    { schema: { body: EnrollRequestSchema }, config: { rateLimit: { max: opts.enrollPerMinute ?? 20, timeWindow: 60_000 } } },
    async (request, reply) => {
      const body = request.body as v.InferOutput<typeof EnrollRequestSchema>;
      if (opts.enrollCode !== undefined) {
        // Compared even when absent, so a missing code and a wrong one cost the same.
        const ok = sameSecret(body.code ?? '', opts.enrollCode);
        if (!ok || body.code === undefined) return reply.code(403).send({ error: body.code === undefined ? 'this server needs an enrolment code' : 'wrong enrolment code' });
      }
      const cred = newDeviceCredential();
      await store.createDevice({ deviceId: cred.deviceId, name: body.name, secretHash: cred.secretHash, createdAt: Date.now(), revokedAt: null });
      stats.enrolled++;
      log(`devices: enrolled ${cred.deviceId} ("${body.name}") from ${normaliseIp(request.ip)}`);
      const res: EnrollResponse = { deviceId: cred.deviceId, token: cred.token };
      return reply.code(201).header('cache-control', 'no-store').send(res);
    },
  );

  // ---- admin only: the Bearer header, checked per route so no spelling of the path can skip it ----
  const isAdmin = (request: FastifyRequest) => sameSecret(bearer(request.headers.authorization) ?? '', opts.adminToken);
  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isAdmin(request)) return reply.code(401).header('www-authenticate', 'Bearer').header('cache-control', 'no-store').send({ error: 'the admin token is required (Authorization: Bearer …)' });
  };
  await app.register(async (admin) => {
    admin.addHook('onRequest', requireAdmin);
    admin.addHook('onSend', async (_req, reply, payload) => {
      reply.header('cache-control', 'no-store');
      return payload;
    });
    admin.get('/api/devices', async () => store.devices());
    admin.delete('/api/devices/:id', { schema: { params: v.strictObject({ id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'bad device id')) }) } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const device = await store.revokeDevice(id, Date.now());
      if (!device) return reply.code(404).send({ error: `no device ${id}` });
      closeDeviceSockets(id);
      log(`devices: revoked ${id}`);
      return device;
    });
    trainerRoutes(admin, store);
    admin.get(
      '/api/sessions/:id/events',
      { schema: { params: v.strictObject({ id: SessionIdSchema }), querystring: EventsQuerySchema } },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const q = request.query as v.InferOutput<typeof EventsQuerySchema>;
        const events = await store.events(id, q.after, q.limit);
        return reply.type('application/json').send(eventsJson(events));
      },
    );
    admin.get('/api/stats', async () => ({ ...stats, store: store.kind }));
  });

  // ---- sockets ----
  const checkOrigin = async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (!originAllowed(origin)) {
      stats.rejectedUpgrades++;
      log(`ws: refused ${normaliseIp(request.ip)} (origin ${origin} not allowed)`);
      return reply.code(403).send({ error: `origin ${origin} is not allowed (FRAMEWISE_ORIGINS)` });
    }
  };

  const alive = new WeakMap<WebSocket, boolean>();
  const watch = (ws: WebSocket, what: string, peer: string) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') stats.closedTooBig++;
      else if (err.code === 'WS_ERR_INVALID_UTF8') stats.closedInvalid++;
      log(`${what}: ${peer}: ${err.message}`);
    });
  };

  /** Open sync sockets per device, so that a revocation can close them. */
  const byDevice = new Map<string, Map<WebSocket, SyncConnection>>();
  function closeDeviceSockets(deviceId: string): void {
    const sockets = byDevice.get(deviceId);
    if (!sockets) return;
    for (const [ws, conn] of sockets) {
      conn.markClosed();
      stats.revokedSockets++;
      ws.close(CLOSE.unauthorised, 'device revoked');
    }
    byDevice.delete(deviceId);
  }

  app.get('/sync', { websocket: true, onRequest: checkOrigin }, (ws, request) => {
    const peer = normaliseIp(request.ip);
    stats.connections++;
    watch(ws, 'sync', peer);
    const conn = new SyncConnection({ store, rate: opts.rate, stats, log, peer });
    const helloTimer = setTimeout(() => {
      if (conn.device === undefined && ws.readyState === ws.OPEN) {
        stats.closedUnauthorised++;
        conn.markClosed();
        ws.close(CLOSE.unauthorised, 'no hello in time');
      }
    }, LIMITS.helloTimeoutMs);
    let queue: Promise<void> = Promise.resolve();
    let inFlight = 0;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Rate is judged on arrival; work is done in order, one message at a time, because an ack must follow the write it confirms.
      inFlight++;
      // A client that sends faster than its messages are stored is read no faster than that.
      if (inFlight > 4 && !ws.isPaused) ws.pause();
      queue = queue
        .then(async () => {
          const out = await conn.handle(data, isBinary);
          if (out.reply && ws.readyState === ws.OPEN) ws.send(JSON.stringify(out.reply));
          if (conn.device !== undefined) {
            let mine = byDevice.get(conn.device);
            if (!mine) byDevice.set(conn.device, (mine = new Map()));
            mine.set(ws, conn);
          }
          if (out.close) ws.close(out.close.code, out.close.reason);
        })
        .catch((err: unknown) => {
          log(`sync: ${peer}: ${String(err)}`);
          ws.terminate();
        })
        .finally(() => {
          inFlight--;
          if (inFlight <= 1 && ws.isPaused && ws.readyState === ws.OPEN) ws.resume();
        });
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      conn.markClosed();
      if (conn.device !== undefined) byDevice.get(conn.device)?.delete(ws);
    });
  });

  const live = new LiveFeed({ store, adminToken: opts.adminToken, stats, log, stallMs: opts.liveStallMs ?? 30_000 });
  app.get('/live', { websocket: true, onRequest: checkOrigin }, (ws, request) => {
    watch(ws, 'live', normaliseIp(request.ip));
    live.add(ws);
  });

  store.onChange((change) => {
    if (change.type === 'append') live.changed(change.sessionId);
    else if (change.type === 'revoke') closeDeviceSockets(change.deviceId);
    else live.refresh();
  });

  const pingInterval = opts.pingIntervalMs ?? 15_000;
  const pinger = setInterval(() => {
    for (const ws of app.websocketServer.clients) {
      if (!alive.get(ws)) {
        stats.deadPeers++;
        log('ws: dead peer (no pong), terminated');
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }, pingInterval);

  // ---- the built PWA ----
  const root = opts.staticDir ? resolve(opts.staticDir) : undefined;
  const built = root !== undefined && existsSync(root) && statSync(root).isDirectory();
  if (built) {
    await app.register(fastifyStatic, {
      root,
      wildcard: true,
      index: ['index.html'],
      dotfiles: 'deny',
      cacheControl: false,
      setHeaders: (reply, path) => {
        // Hashed build output never changes; everything else (index.html, sw.js, the manifest) is revalidated.
        reply.header('cache-control', path.startsWith(join(root, 'assets') + sep) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    for (const path of ['/dashboard', '/dashboard/']) app.get(path, async (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('dashboard.html'));
  }

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (/^\/(api|sync|live)(\/|$)/i.test(path)) {
      if (!isAdmin(request)) return requireAdmin(request, reply);
      return reply.code(404).send({ error: `no such API: ${request.method} ${path}` });
    }
    // Client-side routes of the single-page app get its shell; so does anything unknown.
    if (built && (request.method === 'GET' || request.method === 'HEAD') && !path.includes('..') && existsSync(join(root, 'index.html'))) {
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    return reply.code(404).send({ error: built ? 'not found' : `not built: run npm run build (no ${root ?? 'static directory'})` });
  });

  await app.ready();

  return {
    fastify: app,
    server,
    stats,
    async listen(port: number, host: string) {
      await app.listen({ port, host });
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      if (typeof opts.hosts === 'function') hosts = opts.hosts(actual).map((h) => h.toLowerCase());
      if (typeof opts.origins === 'function') origins = opts.origins(actual);
      return { port: actual };
    },
    async close() {
      clearInterval(pinger);
      live.close();
      for (const sockets of byDevice.values()) for (const conn of sockets.values()) conn.markClosed();
      const sockets = [...app.websocketServer.clients];
      for (const ws of sockets) ws.close(CLOSE.shutdown, 'server shutting down');
      // A peer that does not answer the close (one that stopped reading) is not waited for.
      await Promise.race([Promise.all(sockets.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((r) => ws.once('close', r))))), new Promise((r) => setTimeout(r, 1000))]);
      for (const ws of sockets) if (ws.readyState !== ws.CLOSED) ws.terminate();
      await app.close();
    },
  };
}
