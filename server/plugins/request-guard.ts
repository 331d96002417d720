// Every request: the Host allow-list (DNS rebinding), upgrades only on the socket routes, the
// isolation headers on every answer, the HTTP rate limit, validation by the protocol's valibot
// schemas and one error handler that never leaks an internal error. Global (not encapsulated):
// it guards every route registered after it.
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import * as v from 'valibot';
import { isUpgrade, type ServerContext } from './context';

export const SOCKET_ROUTES = new Set(['/sync', '/live']);
export const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'x-content-type-options': 'nosniff' };

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

async function requestGuard(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { stats, log } = ctx;
  app.setValidatorCompiler(valibotCompiler);
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      stats.httpErrors++;
      log.error({ reqId: request.id, method: request.method, url: request.url, err: err.stack ?? err.message }, 'request failed');
    }
    void reply.code(status).header('cache-control', 'no-store').send({ error: status === 500 ? 'internal error' : err.message });
  });
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host?.toLowerCase();
    const { hosts } = ctx.allowed;
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
  await app.register(fastifyRateLimit, { global: true, max: ctx.opts.httpPerMinute ?? 1200, timeWindow: 60_000, onExceeded: (request) => ctx.metrics.limitHit('http-rate', { address: request.ip }) });
}

export default fp(requestGuard, { name: 'framewise-request-guard' });
