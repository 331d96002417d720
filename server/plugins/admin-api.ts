// Admin only: devices (list, revoke), the trainer's read API, raw events, counters and /metrics. The Bearer
// header is checked per route by this scope's hook, so no spelling of a path can skip it.
import type { FastifyInstance } from 'fastify';
import * as v from 'valibot';
import { EventsQuerySchema } from '../../src/sync/trainer-api';
import { SessionIdSchema } from '../../src/sync/protocol';
import { eventsJson } from '../store';
import { trainerRoutes } from '../trainer-routes';
import { normaliseIp, requireAdmin, type ServerContext } from './context';

export default async function adminApi(admin: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { store } = ctx.opts;
  admin.addHook('onRequest', requireAdmin(ctx));
  admin.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });
  admin.get('/api/devices', async () => store.devices());
  admin.delete('/api/devices/:id', { schema: { params: v.strictObject({ id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'bad device id')) }) } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const device = await store.revokeDevice(id, Date.now());
    if (!device) return reply.code(404).send({ error: `no device ${id}` });
    ctx.devices.revoke(id);
    ctx.log.info({ reqId: request.id, deviceId: id }, 'device revoked');
    return device;
  });
  trainerRoutes(admin, store, {
    heavyReads: ctx.heavyReads,
    onHeavyRefused: (request) => {
      ctx.stats.refusedHeavyReads++;
      ctx.metrics.limitHit('heavy-reads', { address: normaliseIp(request.ip) });
    },
  });
  admin.get('/api/sessions/:id/events', { schema: { params: v.strictObject({ id: SessionIdSchema }), querystring: EventsQuerySchema } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const q = request.query as v.InferOutput<typeof EventsQuerySchema>;
    const events = await store.events(id, q.after, q.limit);
    return reply.type('application/json').send(eventsJson(events));
  });
  admin.get('/api/stats', async () => ({ ...ctx.stats, store: store.kind }));
  // Prometheus text format, for a scraper that sends the admin token (authorization: Bearer).
  admin.get('/metrics', async (_request, reply) => {
    const { contentType, text } = await ctx.metrics.exposition();
    return reply.type(contentType).send(text);
  });
}
