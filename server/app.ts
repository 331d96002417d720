// The backend: the built PWA, device enrolment, the sync socket, the admin API and the
// dashboard's live feed, on Fastify, as one plugin per concern (server/plugins/), registered
// below in the order a request meets them. Every request passes the Host allow-list; every
// socket the connection caps; every secret is compared in constant time; nothing a client sends
// can throw out of a handler.
import Fastify, { type FastifyBaseLogger, type FastifyReply } from 'fastify';
import { CLOSE } from '../src/sync/protocol';
import type { AppOptions, RunningApp } from './app-types';
import adminApi from './plugins/admin-api';
import connectionLimits from './plugins/connection-limits';
import { newServerContext } from './plugins/context';
import enrolment from './plugins/enrolment';
import liveSocket from './plugins/live-socket';
import requestGuard, { ISOLATION } from './plugins/request-guard';
import retention from './plugins/retention';
import staticApp from './plugins/static-app';
import syncSocket from './plugins/sync-socket';
import websockets from './plugins/websockets';

export type { AppOptions, AppStats, RunningApp } from './app-types';

export async function createApp(opts: AppOptions): Promise<RunningApp> {
  // Fastify logs through the given pino logger (request ids and all); a line sink or nothing gets the server's own lines only.
  const given = opts.log === undefined || typeof opts.log === 'function' ? undefined : opts.log;
  const ctx = newServerContext(opts);
  const { stats } = ctx;
  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(opts.requestTimeoutMs ?? 30_000, headersTimeout);

  const app = Fastify({
    ...(given ? { loggerInstance: given as FastifyBaseLogger } : { logger: false }),
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

  await app.register(connectionLimits, ctx); // TCP: caps at accept, answers to broken HTTP
  await app.register(requestGuard, ctx); // every request: Host, upgrades, headers, rate limit, validation, errors
  await app.register(enrolment, ctx); // public: client config, enrolment (and its CORS)
  await app.register(adminApi, ctx); // admin: devices, the trainer's API, raw events, counters
  await app.register(websockets, ctx); // the socket server and its ping sweep
  await app.register(syncSocket, ctx); // /sync: devices' events
  await app.register(liveSocket, ctx); // /live: the dashboard's feed, and store changes
  await app.register(retention, ctx); // housekeeping: retention, old usage counts
  await app.register(staticApp, ctx); // the PWA, the dashboard, and what nothing else routes
  await app.ready();

  return {
    fastify: app,
    server: app.server,
    stats,
    async listen(port: number, host: string) {
      await app.listen({ port, host });
      const address = app.server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      if (typeof opts.hosts === 'function') ctx.allowed.hosts = opts.hosts(actual).map((h) => h.toLowerCase());
      if (typeof opts.origins === 'function') ctx.allowed.origins = opts.origins(actual);
      return { port: actual };
    },
    async close() {
      for (const stop of ctx.onShutdown) stop();
      ctx.devices.closeAll();
      const sockets = [...app.websocketServer.clients];
      for (const ws of sockets) ws.close(CLOSE.shutdown, 'server shutting down');
      // A peer that does not answer the close (one that stopped reading) is not waited for.
      await Promise.race([Promise.all(sockets.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((r) => ws.once('close', r))))), new Promise((r) => setTimeout(r, 1000))]);
      for (const ws of sockets) if (ws.readyState !== ws.CLOSED) ws.terminate();
      await app.close();
    },
  };
}
